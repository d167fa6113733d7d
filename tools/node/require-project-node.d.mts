/** The one-line message when `version` does not satisfy package.json `engines.node`, else undefined. */
export function nodeVersionProblem(version?: string, execPath?: string): string | undefined;
