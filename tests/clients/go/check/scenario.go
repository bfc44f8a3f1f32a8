package check

import (
	"fmt"
	"sort"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"
)

// PendingOperations makes every operation pend until its first OperationService.Get, so that the
// SDKs' waiters poll, and RegistryService.Create until its second, so that a waiter also sleeps
// its poll interval (1 s by default) and polls again.
var PendingOperations = map[string]string{"*": "polls:1", "RegistryService/Create": "polls:2"}

// Unknown is an id nothing has.
const Unknown = "crp00000000000000000"

// OperationError is a fault rule: the next ImageService.Delete answers an operation that fails.
var OperationError = map[string]any{"method": "ImageService/Delete", "count": 1,
	"operation_error": map[string]any{"code": "FAILED_PRECONDITION", "message": "injected by the scenario"}}

// WorkflowImages are the repositories of the images the workflow scenario pushes, one a line.
var WorkflowImages = []string{"app", "app", "team/web", "team/web", "team/web"}

// Repositories are the names of WorkflowImages' repositories in registry, by name.
func Repositories(registry string) []string {
	return []string{registry + "/app", registry + "/team/web"}
}

// BadList is a ListImagesRequest that breaks one rule, and the field its error names.
type BadList struct {
	Field, Folder, Filter, OrderBy, PageToken string
	PageSize                                  int64
}

// BadLists are the INVALID_ARGUMENT cases of ImageService.List.
func BadLists(folder string) []BadList {
	return []BadList{
		{Field: "page_size", Folder: folder, PageSize: 1001},
		{Field: "filter", Folder: folder, Filter: "name ="},
		{Field: "order_by", Folder: folder, OrderBy: "size"},
		{Field: "page_token", Folder: folder, PageToken: "not-a-token"},
		{Field: "folder_id"}, // no scope at all
	}
}

// Seeded is what SeedImages added.
type Seeded struct {
	Folder, Main, Other string
	Added               map[string][]string // repository name -> image ids
}

// Scope is one List scope and the image ids it must list.
type Scope struct {
	Name                         string
	Folder, Registry, Repository string
	Want                         []string
}

// SeedImages adds two registries to folder, seven images in three repositories of the first and
// one in the second, as docker pushes would, a day apart from 2026-01-01 on (so that a lifecycle
// rule's expire_period of 24 hours finds them all expired).
func SeedImages(run *Run, admin Admin, folder string) Seeded {
	seeded := Seeded{Folder: folder, Added: map[string][]string{}}
	for n, registry := range []*string{&seeded.Main, &seeded.Other} {
		record, err := admin.AddRegistry(folder, fmt.Sprintf("go-images-%d", n))
		if err != nil {
			run.Fatal("setup: add registries", err)
		}
		*registry = record.ID
	}
	for _, image := range []struct{ registry, repository string }{
		{seeded.Main, "app"}, {seeded.Main, "app"}, {seeded.Main, "app"}, {seeded.Main, "team/web"},
		{seeded.Main, "team/web"}, {seeded.Main, "team/worker"}, {seeded.Main, "team/worker"}, {seeded.Other, "app"},
	} {
		name := image.registry + "/" + image.repository
		pushed := SeedStart.AddDate(0, 0, seeded.Count()).Format(time.RFC3339)
		record, err := admin.AddImageCreatedAt(image.registry, image.repository, pushed, fmt.Sprintf("v%d", len(seeded.Added[name])))
		if err != nil {
			run.Fatal("setup: add images", err)
		}
		seeded.Added[name] = append(seeded.Added[name], record.ID)
	}
	return seeded
}

// SeedStart is when SeedImages' first image was pushed.
var SeedStart = time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)

// Count is how many images SeedImages added.
func (s Seeded) Count() int {
	count := 0
	for _, ids := range s.Added {
		count += len(ids)
	}
	return count
}

// Scopes are the folder, the first registry, and its repository app.
func (s Seeded) Scopes() []Scope {
	var all, main []string
	for name, ids := range s.Added {
		all = append(all, ids...)
		if name != s.Other+"/app" {
			main = append(main, ids...)
		}
	}
	return []Scope{
		{Name: "in a folder", Folder: s.Folder, Want: all},
		{Name: "in a registry", Registry: s.Main, Want: main},
		{Name: "in a repository", Repository: s.Main + "/app", Want: s.Added[s.Main+"/app"]},
	}
}

// Last is the last n values (all of them if fewer).
func Last(values []string, n int) []string {
	if len(values) < n {
		return values
	}
	return values[len(values)-n:]
}

// The rule of the lifecycle step's policy: every tagged image a day old or more, but the newest.
const (
	KeepTagRegexp   = ".*"
	KeepExpire      = 24 * time.Hour
	KeepRetainedTop = 1
)

// WouldDelete is what the documented rule {tag_regexp ".*", expire_period, retained_top} deletes of
// a repository's images at now: of the tagged ones, all but the newest retainedTop (by created_at,
// ties: the later id), those at least expire old.
func WouldDelete[T interface {
	GetId() string
	GetTags() []string
	GetCreatedAt() *timestamppb.Timestamp
}](images []T, now time.Time, expire time.Duration, retainedTop int) []string {
	var tagged []T
	for _, image := range images {
		if len(image.GetTags()) > 0 {
			tagged = append(tagged, image)
		}
	}
	sort.Slice(tagged, func(i, j int) bool {
		order := tagged[i].GetCreatedAt().AsTime().Compare(tagged[j].GetCreatedAt().AsTime())
		return order > 0 || order == 0 && tagged[i].GetId() > tagged[j].GetId()
	})
	deleted := []string{}
	for n, image := range tagged {
		if n >= retainedTop && !image.GetCreatedAt().AsTime().Add(expire).After(now) {
			deleted = append(deleted, image.GetId())
		}
	}
	return deleted
}

// ScanReport is the scan step's vulnerability report for its image's digest (protobuf's JSON
// mapping of Vulnerability): one CRITICAL, two HIGH.
var ScanReport = []map[string]any{
	{"severity": "CRITICAL", "package": map[string]any{"name": "CVE-2024-6387", "package": "openssh-server",
		"version": "1:8.9p1-3ubuntu0.6", "fixed_by": "1:8.9p1-3ubuntu0.10"}},
	{"severity": "HIGH", "package": map[string]any{"name": "CVE-2022-37434", "package": "zlib1g"}},
	{"severity": "HIGH", "package": map[string]any{"name": "CVE-2023-4911", "package": "libc6"}},
}

// ReportCounts are ScanReport's vulnerabilities by severity, as SeverityCounts gives them.
func ReportCounts() map[string]int64 {
	counts := map[string]int64{}
	for _, vulnerability := range ScanReport {
		counts[vulnerability["severity"].(string)]++
	}
	return counts
}

// ReportPackages are a field of ScanReport's packages (name: the CVE ids; package: the packages), sorted.
func ReportPackages(field string) []string {
	var values []string
	for _, vulnerability := range ScanReport {
		values = append(values, vulnerability["package"].(map[string]any)[field].(string))
	}
	return Sorted(values)
}

// SeverityCounts are a VulnerabilityStats' counts by severity, its zeros left out.
func SeverityCounts(stats interface {
	GetCritical() int64
	GetHigh() int64
	GetMedium() int64
	GetLow() int64
	GetNegligible() int64
	GetUndefined() int64
}) map[string]int64 {
	counts := map[string]int64{}
	for severity, count := range map[string]int64{
		"CRITICAL": stats.GetCritical(), "HIGH": stats.GetHigh(), "MEDIUM": stats.GetMedium(),
		"LOW": stats.GetLow(), "NEGLIGIBLE": stats.GetNegligible(), "UNDEFINED": stats.GetUndefined(),
	} {
		if count != 0 {
			counts[severity] = count
		}
	}
	return counts
}

// SameCounts says how two counts by severity differ, or "".
func SameCounts(got, want map[string]int64) string {
	return If(fmt.Sprint(got) != fmt.Sprint(want), "counts by severity: got %v, want %v", got, want)
}

// The Cloud Registry step (the workflow scenario's last): a DOCKER registry named CloudRegistryName
// whose repository CloudRegistryRepository holds one image tagged CloudRegistryTags, and beside it
// an NPM registry named CloudRegistryOther that a List by kind DOCKER leaves out. In Cloud
// Registry's tree the repository is the PACKAGE ubuntu in the FOLDER library, and each tag an
// ARTIFACT named by the tag; the step deletes the artifact CloudRegistryDeleted and waits.
const (
	CloudRegistryName       = "go-cloud-docker"
	CloudRegistryOther      = "go-cloud-npm"
	CloudRegistryRepository = "library/ubuntu"
	CloudRegistryDeleted    = "latest"
)

// CloudRegistryTags are the image's tags, as ListArtifacts lists them (by name).
var CloudRegistryTags = []string{"24.04", "latest"}

// The migration step (go-sdk v2's workflow, after the Cloud Registry step; v1's go-genproto v0.111.0
// has the older MigrationService, StartCloud only): a Container Registry registry named
// MigratedRegistryName whose repository MigratedRepository holds one image tagged MigratedTags is
// moved by MigrationService.StartFolder; afterwards Cloud Registry has a DOCKER registry with its id
// and name, whose tree lists each tag as an ARTIFACT with the image's digest, and Container Registry
// no longer has it.
const (
	MigratedRegistryName = "go-migrated"
	MigratedRepository   = "team/app"
)

// MigratedTags are the moved image's tags, as ListArtifacts lists them (by name).
var MigratedTags = []string{"v1", "v2"}
