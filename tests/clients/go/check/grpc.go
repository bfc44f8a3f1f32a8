package check

import (
	"fmt"
	"sort"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Expect records whether err is a gRPC status with the code want, as status.Code reads it.
func (r *Run) Expect(name string, err error, want codes.Code) bool {
	if got := status.Code(err); got != want {
		r.Fail(name, "got %s (%v), want %s", got, err, want)
		return false
	}
	r.OK(name)
	return true
}

// Violates says whether err's google.rpc.BadRequest details name field.
func Violates(err error, field string) string {
	st, _ := status.FromError(err)
	for _, detail := range st.Details() {
		if bad, ok := detail.(*errdetails.BadRequest); ok {
			for _, violation := range bad.FieldViolations {
				if violation.Field == field {
					return ""
				}
			}
		}
	}
	return fmt.Sprintf("no BadRequest violation of %s in %v", field, st.Details())
}

// RequestInfo is err's google.rpc.RequestInfo detail, or nil.
func RequestInfo(err error) *errdetails.RequestInfo {
	st, _ := status.FromError(err)
	for _, detail := range st.Details() {
		if info, ok := detail.(*errdetails.RequestInfo); ok {
			return info
		}
	}
	return nil
}

// If gives why when bad is true, else "" (a passed check).
func If(bad bool, why string, args ...any) string {
	if bad {
		return fmt.Sprintf(why, args...)
	}
	return ""
}

// Equal says how two messages differ, or "".
func Equal(got, want proto.Message) string {
	return If(!proto.Equal(got, want), "got %v, want %v", got, want)
}

// Within says whether d lies between low and high.
func Within(d, low, high time.Duration) string {
	return If(d < low || d > high, "%s, want between %s and %s", d, low, high)
}

// IDs are the ids of resources, in their order.
func IDs[T interface{ GetId() string }](items []T) []string {
	out := []string{}
	for _, item := range items {
		out = append(out, item.GetId())
	}
	return out
}

// NamesOf lists the names of resources, in their order.
func NamesOf[T interface{ GetName() string }](items []T) []string {
	out := []string{}
	for _, item := range items {
		out = append(out, item.GetName())
	}
	return out
}

// Sorted is a sorted copy.
func Sorted(values []string) []string {
	out := append([]string{}, values...)
	sort.Strings(out)
	return out
}

// PageSizes are the sizes of the pages of total items, size a page.
func PageSizes(total, size int) []string {
	var sizes []string
	for ; total > size; total -= size {
		sizes = append(sizes, fmt.Sprint(size))
	}
	return append(sizes, fmt.Sprint(total))
}

// NewestFirst says whether images are ordered by created_at descending, ties by id descending.
func NewestFirst[T interface {
	GetId() string
	GetCreatedAt() *timestamppb.Timestamp
}](images []T) string {
	for n := 1; n < len(images); n++ {
		before, after := images[n-1], images[n]
		order := before.GetCreatedAt().AsTime().Compare(after.GetCreatedAt().AsTime())
		if order < 0 || order == 0 && before.GetId() < after.GetId() {
			return fmt.Sprintf("%s listed before %s", before.GetId(), after.GetId())
		}
	}
	return ""
}

// Artifacts says how a Cloud Registry listing differs from ARTIFACTs named names (in that order)
// lying at path, or "". K is the Artifact_Kind of the program's go-genproto:
// check.Artifacts[cloudregistry.Artifact_Kind](listed, path, names).
func Artifacts[K fmt.Stringer, T interface {
	GetName() string
	GetPath() string
	GetKind() K
}](artifacts []T, path string, names []string) string {
	if why := Same("names", NamesOf(artifacts), names); why != "" {
		return why
	}
	for _, artifact := range artifacts {
		if artifact.GetPath() != path || artifact.GetKind().String() != "ARTIFACT" {
			return fmt.Sprintf("%s: path %q, kind %s; want %q, ARTIFACT", artifact.GetName(), artifact.GetPath(), artifact.GetKind(), path)
		}
	}
	return ""
}
