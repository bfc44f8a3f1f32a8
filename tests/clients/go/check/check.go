// Package check is what the Go SDK client programs share: their settings (flags or environment),
// one result line per check, and the emulator's HTTP control plane, which adds the images the SDK
// cannot push. Standard library only, so it never moves an SDK's dependency versions.
package check

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// Settings are what a program is told about the emulator it runs against.
type Settings struct {
	Endpoint    string // the emulator's TLS address, host:port
	CAFile      string // the CA certificate (PEM) the emulator's TLS certificate is signed by
	Token       string // an IAM token the emulator accepts for Folder
	OAuthToken  string // an OAuth token the emulator trades for an IAM token (IamTokenService.Create)
	Folder      string // the folder Token may touch
	AdminURL    string // the emulator's control plane, http://host:port
	AdminToken  string // its --admin-token, if any
	Scenario    string // which scenario to run
	OtherFolder string // a folder Token may not touch
}

// Parse reads the flags, each defaulting to its environment variable.
func Parse(scenarios ...string) Settings {
	var s Settings
	env := func(name, fallback string) string {
		if value, ok := os.LookupEnv(name); ok {
			return value
		}
		return fallback
	}
	flag.StringVar(&s.Endpoint, "endpoint", env("YCR_ENDPOINT", ""), "emulator TLS address host:port (env YCR_ENDPOINT)")
	flag.StringVar(&s.CAFile, "ca", env("YCR_CA_FILE", ""), "CA certificate file, PEM (env YCR_CA_FILE)")
	flag.StringVar(&s.Token, "token", env("YCR_TOKEN", ""), "IAM token (env YCR_TOKEN)")
	flag.StringVar(&s.OAuthToken, "oauth-token", env("YCR_OAUTH_TOKEN", ""), "OAuth token to exchange (env YCR_OAUTH_TOKEN)")
	flag.StringVar(&s.Folder, "folder", env("YCR_FOLDER", ""), "folder the token may touch (env YCR_FOLDER)")
	flag.StringVar(&s.AdminURL, "admin", env("YCR_ADMIN_URL", ""), "control plane URL (env YCR_ADMIN_URL)")
	flag.StringVar(&s.AdminToken, "admin-token", env("YCR_ADMIN_TOKEN", ""), "control plane token (env YCR_ADMIN_TOKEN)")
	flag.StringVar(&s.OtherFolder, "other-folder", env("YCR_OTHER_FOLDER", "b1gnotyours000000000"),
		"a folder the token may not touch (env YCR_OTHER_FOLDER)")
	flag.StringVar(&s.Scenario, "scenario", env("YCR_SCENARIO", ""), "one of: "+strings.Join(scenarios, ", "))
	flag.Parse()
	var missing []string
	for name, value := range map[string]string{
		"-endpoint": s.Endpoint, "-ca": s.CAFile, "-token": s.Token, "-oauth-token": s.OAuthToken,
		"-folder": s.Folder, "-admin": s.AdminURL, "-scenario": s.Scenario,
	} {
		if value == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(os.Stderr, "missing settings: %s\n", strings.Join(missing, " "))
		flag.Usage()
		os.Exit(2)
	}
	for _, name := range scenarios {
		if s.Scenario == name {
			return s
		}
	}
	fmt.Fprintf(os.Stderr, "-scenario: must be one of %s, got %q\n", strings.Join(scenarios, ", "), s.Scenario)
	os.Exit(2)
	return s
}

// Run prints one line per check: "ok <check>" or "FAIL <check>: why".
type Run struct {
	Name   string
	passed int
	failed int
}

// OK records a passed check.
func (r *Run) OK(name string) {
	r.passed++
	fmt.Printf("ok %s\n", name)
}

// Fail records a failed check.
func (r *Run) Fail(name, format string, args ...any) {
	r.failed++
	fmt.Printf("FAIL %s: %s\n", name, fmt.Sprintf(format, args...))
}

// That records a check that passed if failure is "" and failed with it as the reason otherwise.
func (r *Run) That(name, failure string) bool {
	if failure != "" {
		r.Fail(name, "%s", failure)
		return false
	}
	r.OK(name)
	return true
}

// NoError records a check that passed if err is nil.
func (r *Run) NoError(name string, err error) bool {
	if err != nil {
		r.Fail(name, "%v", err)
		return false
	}
	r.OK(name)
	return true
}

// Fatal records a failed check that the rest of the scenario depends on, and exits.
func (r *Run) Fatal(name string, err error) {
	r.Fail(name, "%v (the scenario stops here)", err)
	r.Exit()
}

// Exit prints the totals and exits non-zero if any check failed (or none ran).
func (r *Run) Exit() {
	fmt.Printf("%s: %d ok, %d FAIL\n", r.Name, r.passed, r.failed)
	if r.failed > 0 || r.passed == 0 {
		os.Exit(1)
	}
	os.Exit(0)
}

// Admin is the emulator's HTTP control plane.
type Admin struct {
	URL   string
	Token string
}

func (a Admin) call(method, path string, body, answer any) error {
	var reader io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		reader = bytes.NewReader(data)
	}
	request, err := http.NewRequest(method, strings.TrimRight(a.URL, "/")+path, reader)
	if err != nil {
		return err
	}
	request.Header.Set("Content-Type", "application/json")
	if a.Token != "" {
		request.Header.Set("Authorization", "Bearer "+a.Token)
	}
	client := http.Client{Timeout: 30 * time.Second}
	response, err := client.Do(request)
	if err != nil {
		return err
	}
	defer response.Body.Close()
	data, err := io.ReadAll(response.Body)
	if err != nil {
		return err
	}
	if response.StatusCode != http.StatusOK {
		return fmt.Errorf("control plane %s %s: HTTP %d: %s", method, path, response.StatusCode, data)
	}
	if answer != nil {
		return json.Unmarshal(data, answer)
	}
	return nil
}

// Record is the part of a control plane answer the programs read.
type Record struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Digest string `json:"digest"` // an image's
}

// AddRegistry adds a registry (what a console user would have made).
func (a Admin) AddRegistry(folderID, name string) (Record, error) {
	var registry Record
	err := a.call("POST", "/registries", map[string]any{"folder_id": folderID, "name": name}, &registry)
	return registry, err
}

// AddCloudRegistry adds a Cloud Registry registry of kind (DOCKER, NPM, ...; its type LOCAL), as
// a console user would have made it.
func (a Admin) AddCloudRegistry(folderID, name, kind string) (Record, error) {
	var registry Record
	err := a.call("POST", "/registries", map[string]any{"folder_id": folderID, "name": name, "kind": kind}, &registry)
	return registry, err
}

// AddImage adds an image, as a docker push would.
func (a Admin) AddImage(registryID, repository string, tags ...string) (Record, error) {
	var image Record
	body := map[string]any{"registry_id": registryID, "repository": repository, "tags": append([]string{}, tags...)}
	err := a.call("POST", "/images", body, &image)
	return image, err
}

// AddImageCreatedAt adds an image pushed at createdAt (RFC 3339), as a docker push then would.
func (a Admin) AddImageCreatedAt(registryID, repository, createdAt string, tags ...string) (Record, error) {
	var image Record
	body := map[string]any{"registry_id": registryID, "repository": repository, "tags": append([]string{}, tags...),
		"created_at": createdAt}
	err := a.call("POST", "/images", body, &image)
	return image, err
}

// AddVulnerabilityReport sets what a scan of any image with digest finds (see the README's "Scans"),
// each vulnerability in protobuf's JSON mapping of Vulnerability.
func (a Admin) AddVulnerabilityReport(digest string, vulnerabilities []map[string]any) error {
	return a.call("POST", "/vulnerability-reports", map[string]any{"digest": digest, "vulnerabilities": vulnerabilities}, nil)
}

// AddFault adds a fault rule (see the README's "Faults and recorded calls").
func (a Admin) AddFault(rule map[string]any) error {
	return a.call("POST", "/faults", rule, nil)
}

// OperationModes sets how long operations take (see the README's "Operations that pend").
func (a Admin) OperationModes(modes map[string]string) error {
	return a.call("POST", "/operation-modes", map[string]any{"modes": modes}, nil)
}

// Call is one recorded call.
type Call struct {
	Method string `json:"method"`
	Code   string `json:"code"`
}

// Codes lists the status names of the recorded calls of method, oldest first.
func (a Admin) Codes(method string) ([]string, error) {
	var calls []Call
	if err := a.call("GET", "/calls?method="+method, nil, &calls); err != nil {
		return nil, err
	}
	codes := make([]string, 0, len(calls))
	for _, call := range calls {
		codes = append(codes, call.Code)
	}
	return codes, nil
}

// AllOK says whether codes holds at least one code, and only OK.
func AllOK(codes []string) string {
	for _, code := range codes {
		if code != "OK" {
			return fmt.Sprintf("codes: %v", codes)
		}
	}
	return If(len(codes) == 0, "no call")
}

// Same says how two lists of strings differ, or "" if they are equal.
func Same(what string, got, want []string) string {
	if strings.Join(got, "\x00") == strings.Join(want, "\x00") && len(got) == len(want) {
		return ""
	}
	return fmt.Sprintf("%s: got %v, want %v", what, got, want)
}
