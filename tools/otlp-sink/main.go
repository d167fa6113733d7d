// otlp-sink is the OTLP/HTTP trace receiver of the tracing whole-system test: it accepts
// `POST /v1/traces` (protobuf or JSON, as the OpenTelemetry SDKs send it), decodes the request
// with the OpenTelemetry Collector's own pdata package, and appends every request as one line of
// OTLP/JSON (the collector file exporter's format) to the output file. It answers like a collector
// (an empty ExportTraceServiceResponse). Built from the Go module proxy by install-otlp-sink.sh.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on (port 0 = any free port)")
	out := flag.String("out", "spans.jsonl", "file the received spans are appended to (OTLP/JSON lines)")
	addrFile := flag.String("address-file", "", "file the bound address is written to once listening")
	flag.Parse()

	file, err := os.OpenFile(*out, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		log.Fatalf("otlp-sink: %v", err)
	}
	var mu sync.Mutex
	marshaler := ptrace.JSONMarshaler{}

	http.HandleFunc("/v1/traces", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req := ptraceotlp.NewExportRequest()
		isJSON := strings.HasPrefix(r.Header.Get("Content-Type"), "application/json")
		if isJSON {
			err = req.UnmarshalJSON(body)
		} else {
			err = req.UnmarshalProto(body)
		}
		if err != nil {
			http.Error(w, "invalid OTLP request: "+err.Error(), http.StatusBadRequest)
			return
		}
		line, err := marshaler.MarshalTraces(req.Traces())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		mu.Lock()
		_, err = file.Write(append(line, '\n'))
		mu.Unlock()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		resp := ptraceotlp.NewExportResponse()
		var payload []byte
		if isJSON {
			payload, err = resp.MarshalJSON()
			w.Header().Set("Content-Type", "application/json")
		} else {
			payload, err = resp.MarshalProto()
			w.Header().Set("Content-Type", "application/x-protobuf")
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write(payload)
	})

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("otlp-sink: %v", err)
	}
	addr := ln.Addr().String()
	if *addrFile != "" {
		if err := os.WriteFile(*addrFile, []byte(addr), 0o644); err != nil {
			log.Fatalf("otlp-sink: %v", err)
		}
	}
	fmt.Fprintf(os.Stderr, "otlp-sink listening on %s, writing %s\n", addr, *out)
	log.Fatal(http.Serve(ln, nil))
}
