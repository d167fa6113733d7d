// Name pools for generated schools. Deliberately include non-ASCII letters (é, ñ, ø, Ł), Welsh and
// Irish names, apostrophes and ampersands, because real iSAMS data has them (reference §4).
export const FORENAMES_F = [
  'Olivia', 'Amelia', 'Isla', 'Ava', 'Mia', 'Freya', 'Zoë', 'Chloé', 'Siân', 'Niamh', 'Aoife', 'Saoirse',
  'Gwenllian', 'Ffion', 'Carys', 'Mairéad', 'Ingrid', 'Astrid', 'Małgorzata', 'Zofia', 'Inés', 'María',
  'Aisha', 'Priya', 'Yasmin', 'Hannah', 'Grace', 'Emily', 'Sophie', 'Lucía', 'Björk', 'Renée',
];
export const FORENAMES_M = [
  'Oliver', 'George', 'Noah', 'Arthur', 'Harry', 'Leo', 'Jack', 'Dafydd', 'Gruffydd', 'Rhys', 'Iwan',
  'Seán', 'Oisín', 'Cian', 'Pádraig', 'Søren', 'Bjørn', 'Łukasz', 'Paweł', 'José', 'Íñigo', 'Nuño',
  'François', 'Jérôme', 'Mohammed', 'Arjun', 'Kwame', 'Thomas', 'James', 'William', 'Henry', 'Zoltán',
];
export const SURNAMES = [
  'Smith', 'Jones', 'Williams', 'Taylor', 'Brown', 'Davies', 'Evans', 'Wilson', 'Thomas', 'Roberts',
  "O'Brien", "O'Sullivan", "D'Arcy", 'Ó Briain', 'Mac Giolla Phádraig', 'Ní Bhriain', 'ap Gwilym',
  'Llywelyn', 'Núñez', 'Peña', 'Muñoz', 'Søndergaard', 'Ødegaard', 'Łukaszewski', 'Wójcik', 'Kowalczyk',
  'Müller', 'Schäfer', 'Dubois', 'Lefèvre', 'Okafor', 'Adeyemi', 'Patel', 'Singh', 'Nguyễn', 'Chen',
  'Fitzgerald-Smythe', 'de la Cruz', 'van der Berg', 'Whitmore', 'Pike', 'Grant',
];
export const MIDDLE_NAMES = ['James', 'Rose', 'Marie', 'Alexander', 'Elizabeth', 'Seán', 'Mair', 'José', 'Zoë', 'Louise'];
export const PROFESSIONS = ['Engineer', 'Doctor', 'Solicitor', 'Teacher', 'Accountant', 'Farmer', 'Nurse', 'Architect', 'Self-employed', ''];
export const TOWNS = ['Exampleton', 'Llanfair', 'Kilkenny', 'St Albans', 'Bishop’s Stortford', 'Newtown'];
export const STREETS = ['Orchard Way', 'High Street', 'Church Lane', 'Ffordd y Castell', 'Mill Road', 'Station Road'];
export const NATIONALITIES = ['British', 'Irish', 'Polish', 'Spanish', 'French', 'Danish', 'Nigerian', 'Indian', 'Chinese'];
export const LANGUAGES = ['English', 'Welsh', 'Irish', 'Polish', 'Spanish', 'French', 'Danish', 'Yoruba', 'Hindi', 'Mandarin'];
export const ETHNICITIES = ['White, British', 'White, Irish', 'Mixed', 'Asian, Indian', 'Black, African', 'Chinese', 'Other'];
export const ACADEMIC_HOUSE_NAMES = ['Kestrel', 'Falcon', 'Merlin', 'Osprey', 'Drake & Raleigh', 'Glyndŵr', 'Brontë', 'Lovelace'];
export const BOARDING_HOUSE_NAMES = ['Lodge', 'School House', 'St Bride’s', 'Hafod', 'The Grange', 'Ørsted'];
export const SUBJECTS: ReadonlyArray<readonly [string, string, string]> = [
  // [department, subject, code]
  ['Mathematics', 'Mathematics', 'Ma'],
  ['Mathematics', 'Further Mathematics', 'FM'],
  ['English', 'English', 'En'],
  ['English', 'English Literature', 'EL'],
  ['Science', 'Biology', 'Bi'],
  ['Science', 'Chemistry', 'Ch'],
  ['Science', 'Physics', 'Ph'],
  ['Modern Languages', 'French', 'Fr'],
  ['Modern Languages', 'Spanish', 'Sp'],
  ['Modern Languages', 'Cymraeg', 'Cy'],
  ['Humanities', 'History', 'Hi'],
  ['Humanities', 'Geography', 'Gg'],
  ['Humanities', 'Religious Studies', 'RS'],
  ['Design & Technology', 'Design & Technology', 'DT'],
  ['Design & Technology', 'Computing', 'Co'],
  ['Creative Arts', 'Art', 'Ar'],
  ['Creative Arts', 'Music', 'Mu'],
  ['Creative Arts', 'Drama', 'Dr'],
  ['Physical Education', 'PE', 'PE'],
  ['PSHE', 'PSHE', 'PS'],
];
/** The subject deliberately listed under a second department (reference §2.2.10). */
export const SHARED_SUBJECT: readonly [string, string] = ['Mathematics', 'Computing'];
export const GROUP_CATEGORIES = ['Clubs & Societies', 'Sport', 'Music', 'Pastoral', 'Trips'];
export const GROUP_NAMES = [
  'Chess Club', 'Debating Society', 'Choir', 'Orchestra', 'Rugby 1st XV', 'Netball A', 'DofE Bronze',
  'Eco Committee', 'Coding Club', 'Côr Cymraeg', 'Ski Trip 2025', 'Peer Mentors', 'Drama & Dance', 'Robotics',
];
