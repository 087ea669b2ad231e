package keycard_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	keycard "github.com/keycard/keycard/bindings/go"
)

// The example of docs/bindings.md, run by go test against the repository's default store.
func Example() {
	policies := filepath.Join("..", "..", "policies")
	if repo := os.Getenv("KEYCARD_REPO"); repo != "" {
		policies = filepath.Join(repo, "policies")
	}
	ctx := context.Background()
	engine, err := keycard.Open(policies, keycard.Watch)
	if err != nil {
		log.Fatal(err) // keycard: ...: every problem, with file and JSON pointer
	}
	defer engine.Close()
	d, err := engine.Authorize(ctx, keycard.Request{
		Principal: "arn:aws:iam::111122223333:user/dev/alice", Action: "s3:GetObject",
		Resource: "arn:aws:s3:::example-reports/2026/q1.csv",
		Context:  map[string]any{"aws:SourceIp": "203.0.113.7", "aws:SecureTransport": true}})
	fmt.Println(d, err)
	_, err = engine.Authorize(ctx, keycard.Request{Principal: "*", Action: "GetObject", Resource: "*"})
	fmt.Println(err)
	// Output:
	// allowed <nil>
	// keycard: malformed request: /action: expected "service:Action", found "GetObject"
}
