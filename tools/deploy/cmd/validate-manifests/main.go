// Command validate-manifests checks rendered Kubernetes manifests offline: every YAML document must
// decode *strictly* into the typed Go object of its apiVersion/kind (client-go's scheme plus the
// Prometheus-operator monitoring types), so unknown fields, duplicate fields, wrong types and
// unknown kinds fail. kubeconform would need schemas downloaded at run time, which CI cannot do;
// the typed structs of k8s.io/api pinned in go.mod are the same API definitions, compiled in.
//
// Usage: validate-manifests [-env-out FILE] FILE... (or "-" for stdin). Exit 1 when any document is
// invalid. -env-out writes, as JSON, the environment-variable names each workload's containers get
// (keyed by the app.kubernetes.io/name label), for tools/deploy/check-env-contract.ts.
package main

import (
	"bufio"
	"bytes"
	encjson "encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

func main() {
	envOut := flag.String("env-out", "", "write the env-variable names of each workload as JSON to this file")
	flag.Parse()
	if flag.NArg() < 1 {
		fmt.Fprintln(os.Stderr, "usage: validate-manifests [-env-out FILE] FILE... (- for stdin)")
		os.Exit(2)
	}
	envs := map[string][]string{}
	s := runtime.NewScheme()
	must(scheme.AddToScheme(s))
	must(monitoringv1.AddToScheme(s))
	strict := json.NewSerializerWithOptions(json.DefaultMetaFactory, s, s, json.SerializerOptions{Yaml: false, Strict: true})

	total, bad := 0, 0
	for _, name := range flag.Args() {
		docs, err := readDocs(name)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
			bad++
			continue
		}
		for i, doc := range docs {
			total++
			obj, err := validate(strict, doc)
			if err != nil {
				fmt.Fprintf(os.Stderr, "INVALID %s (document %d, %s): %v\n", name, i+1, describe(doc), err)
				bad++
				continue
			}
			collectEnv(obj, envs)
		}
	}
	fmt.Printf("validate-manifests: %d documents, %d valid, %d invalid\n", total, total-bad, bad)
	if *envOut != "" {
		out, err := encjson.MarshalIndent(envs, "", "  ")
		must(err)
		must(os.WriteFile(*envOut, out, 0o644))
	}
	if bad > 0 {
		os.Exit(1)
	}
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// readDocs splits a multi-document YAML stream, skipping empty documents (comments only).
func readDocs(name string) ([][]byte, error) {
	var r io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(r))
	var docs [][]byte
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if isEmpty(doc) {
			continue
		}
		docs = append(docs, doc)
	}
}

func isEmpty(doc []byte) bool {
	for _, line := range strings.Split(string(doc), "\n") {
		t := strings.TrimSpace(line)
		if t != "" && t != "---" && !strings.HasPrefix(t, "#") {
			return false
		}
	}
	return true
}

func validate(strict runtime.Decoder, doc []byte) (runtime.Object, error) {
	// YAMLToJSONStrict rejects duplicate keys; the strict JSON decoder rejects unknown fields.
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return nil, fmt.Errorf("yaml: %w", err)
	}
	obj, gvk, err := strict.Decode(js, nil, nil)
	if err != nil {
		return nil, err
	}
	if _, isUnstructured := obj.(*unstructured.Unstructured); isUnstructured {
		return nil, fmt.Errorf("unknown kind %s", gvk)
	}
	meta, ok := obj.(interface{ GetName() string })
	if !ok || meta.GetName() == "" {
		return nil, errors.New("metadata.name is required")
	}
	return obj, nil
}

// collectEnv records the env-variable names of Deployment and Job containers under the pod
// template's app.kubernetes.io/name label.
func collectEnv(obj runtime.Object, envs map[string][]string) {
	var tpl *corev1.PodTemplateSpec
	switch o := obj.(type) {
	case *appsv1.Deployment:
		tpl = &o.Spec.Template
	case *batchv1.Job:
		tpl = &o.Spec.Template
	default:
		return
	}
	name := tpl.Labels["app.kubernetes.io/name"]
	if name == "" {
		return
	}
	for _, c := range tpl.Spec.Containers {
		for _, e := range c.Env {
			envs[name] = append(envs[name], e.Name)
		}
	}
}

func describe(doc []byte) string {
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal(bytes.TrimSpace(doc), &head); err != nil {
		return "unparseable"
	}
	return fmt.Sprintf("%s %s/%s", head.APIVersion, head.Kind, head.Metadata.Name)
}
