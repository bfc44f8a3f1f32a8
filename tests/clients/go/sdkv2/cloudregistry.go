package main

// Cloud Registry's clients of go-sdk v2 live in their own module too,
// github.com/yandex-cloud/go-sdk/services/cloudregistry, which the Go module proxy here does not
// serve either (asked for its versions, the proxy has none and the go command falls back to
// github.com, which is not reachable). What follows is what sdkgen-v2 generates for that module
// (services/cloudregistry/v1/registry.go, artifact.go, migration.go and their iterators), cut to the
// methods the Cloud Registry and migration steps call, as services.go does for Container Registry: each method asks the SDK's
// connector for the connection of its full method name, so the SDK resolves
// yandex.cloud.cloudregistry.v1 to the endpoint id "cloud-registry" (services/endpoints) and dials
// what ApiEndpointService answered for it; every operation is the SDK's own pkg/operation with its
// Wait, polling OperationService.Get.

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/emptypb"

	cloudregistry "github.com/yandex-cloud/go-genproto/yandex/cloud/cloudregistry/v1"
	"github.com/yandex-cloud/go-sdk/v2/pkg/iterator"
	sdkop "github.com/yandex-cloud/go-sdk/v2/pkg/operation"
	"github.com/yandex-cloud/go-sdk/v2/pkg/transport"
)

func cloudRegistryMethod(service, name string) protoreflect.FullName {
	return protoreflect.FullName("yandex.cloud.cloudregistry.v1." + service + "." + name)
}

// CloudRegistryClient is Cloud Registry's RegistryService.
type CloudRegistryClient struct{ connector transport.Connector }

func (c CloudRegistryClient) service(ctx context.Context, name string) (cloudregistry.RegistryServiceClient, error) {
	connection, err := c.connector.GetConnection(ctx, cloudRegistryMethod("RegistryService", name))
	if err != nil {
		return nil, err
	}
	return cloudregistry.NewRegistryServiceClient(connection), nil
}

func (c CloudRegistryClient) List(ctx context.Context, in *cloudregistry.ListRegistriesRequest, opts ...grpc.CallOption) (*cloudregistry.ListRegistriesResponse, error) {
	service, err := c.service(ctx, "List")
	if err != nil {
		return nil, err
	}
	return service.List(ctx, in, opts...)
}

type cloudRegistryPage struct {
	*cloudregistry.ListRegistriesResponse
}

func (r cloudRegistryPage) Items() []*cloudregistry.Registry { return r.Registries }

func (c CloudRegistryClient) Iterator(ctx context.Context, req *cloudregistry.ListRegistriesRequest, opts ...grpc.CallOption) *iterator.Iterator[*cloudregistry.ListRegistriesRequest, *cloudregistry.Registry] {
	return iterator.NewIterator[*cloudregistry.ListRegistriesRequest, *cloudregistry.Registry](ctx, req,
		func(ctx context.Context, req *cloudregistry.ListRegistriesRequest, opts ...grpc.CallOption) (iterator.PageResponse[*cloudregistry.Registry], error) {
			resp, err := c.List(ctx, req, opts...)
			if err != nil {
				return nil, err
			}
			return cloudRegistryPage{resp}, nil
		}, opts...)
}

func (c CloudRegistryClient) ListArtifacts(ctx context.Context, in *cloudregistry.ListArtifactsRequest, opts ...grpc.CallOption) (*cloudregistry.ListArtifactsResponse, error) {
	service, err := c.service(ctx, "ListArtifacts")
	if err != nil {
		return nil, err
	}
	return service.ListArtifacts(ctx, in, opts...)
}

type artifactPage struct {
	*cloudregistry.ListArtifactsResponse
}

func (r artifactPage) Items() []*cloudregistry.Artifact { return r.Artifacts }

func (c CloudRegistryClient) ArtifactsIterator(ctx context.Context, req *cloudregistry.ListArtifactsRequest, opts ...grpc.CallOption) *iterator.Iterator[*cloudregistry.ListArtifactsRequest, *cloudregistry.Artifact] {
	return iterator.NewIterator[*cloudregistry.ListArtifactsRequest, *cloudregistry.Artifact](ctx, req,
		func(ctx context.Context, req *cloudregistry.ListArtifactsRequest, opts ...grpc.CallOption) (iterator.PageResponse[*cloudregistry.Artifact], error) {
			resp, err := c.ListArtifacts(ctx, req, opts...)
			if err != nil {
				return nil, err
			}
			return artifactPage{resp}, nil
		}, opts...)
}

// ArtifactClient is Cloud Registry's ArtifactService.
type ArtifactClient struct{ connector transport.Connector }

func (c ArtifactClient) service(ctx context.Context, name string) (cloudregistry.ArtifactServiceClient, error) {
	connection, err := c.connector.GetConnection(ctx, cloudRegistryMethod("ArtifactService", name))
	if err != nil {
		return nil, err
	}
	return cloudregistry.NewArtifactServiceClient(connection), nil
}

func (c ArtifactClient) Get(ctx context.Context, in *cloudregistry.GetArtifactRequest, opts ...grpc.CallOption) (*cloudregistry.Artifact, error) {
	service, err := c.service(ctx, "Get")
	if err != nil {
		return nil, err
	}
	return service.Get(ctx, in, opts...)
}

func (c ArtifactClient) GetByPath(ctx context.Context, in *cloudregistry.GetArtifactByPathRequest, opts ...grpc.CallOption) (*cloudregistry.Artifact, error) {
	service, err := c.service(ctx, "GetByPath")
	if err != nil {
		return nil, err
	}
	return service.GetByPath(ctx, in, opts...)
}

func (c ArtifactClient) Delete(ctx context.Context, in *cloudregistry.DeleteArtifactRequest, opts ...grpc.CallOption) (*sdkop.Operation, error) {
	service, err := c.service(ctx, "Delete")
	if err != nil {
		return nil, err
	}
	pb, err := service.Delete(ctx, in, opts...)
	return newOperation(c.connector, pb, err, (*cloudregistry.DeleteArtifactMetadata)(nil), (*emptypb.Empty)(nil),
		func(m proto.Message) string { return m.(*cloudregistry.DeleteArtifactMetadata).GetArtifactId() })
}

// CloudRegistryClient.Get is Cloud Registry's RegistryService.Get (the migration step reads a moved registry).
func (c CloudRegistryClient) Get(ctx context.Context, in *cloudregistry.GetRegistryRequest, opts ...grpc.CallOption) (*cloudregistry.Registry, error) {
	service, err := c.service(ctx, "Get")
	if err != nil {
		return nil, err
	}
	return service.Get(ctx, in, opts...)
}

// MigrationClient is Cloud Registry's MigrationService (go-genproto v0.137.0 has the newest one, StartFolder and the dashboards).
type MigrationClient struct{ connector transport.Connector }

func (c MigrationClient) service(ctx context.Context, name string) (cloudregistry.MigrationServiceClient, error) {
	connection, err := c.connector.GetConnection(ctx, cloudRegistryMethod("MigrationService", name))
	if err != nil {
		return nil, err
	}
	return cloudregistry.NewMigrationServiceClient(connection), nil
}

func (c MigrationClient) StartFolder(ctx context.Context, in *cloudregistry.StartFolderMigrationRequest, opts ...grpc.CallOption) (*sdkop.Operation, error) {
	service, err := c.service(ctx, "StartFolder")
	if err != nil {
		return nil, err
	}
	pb, err := service.StartFolder(ctx, in, opts...)
	return newOperation(c.connector, pb, err, (*cloudregistry.StartFolderMigrationMetadata)(nil), (*emptypb.Empty)(nil),
		func(m proto.Message) string { return m.(*cloudregistry.StartFolderMigrationMetadata).GetFolderId() })
}

func (c MigrationClient) GetFolderMigrationStatusDashboard(ctx context.Context, in *cloudregistry.GetFolderMigrationStatusDashboardRequest, opts ...grpc.CallOption) (*cloudregistry.FolderMigrationStatusDashboard, error) {
	service, err := c.service(ctx, "GetFolderMigrationStatusDashboard")
	if err != nil {
		return nil, err
	}
	return service.GetFolderMigrationStatusDashboard(ctx, in, opts...)
}
