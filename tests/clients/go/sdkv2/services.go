package main

// The Container Registry clients of go-sdk v2 live in their own module,
// github.com/yandex-cloud/go-sdk/services/containerregistry, which the Go module proxy here does
// not serve (its version list is a 404). What follows is what sdkgen-v2 generates for that module
// (services/containerregistry/v1/image.go and its siblings), cut to the methods the scenarios call:
// each method asks the SDK's connector for the connection of its full method name (so endpoint
// discovery, TLS and the IAM token middleware are the SDK's), and every operation is the SDK's
// own pkg/operation with its Wait. Nothing here talks to the network by itself.

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/emptypb"

	containerregistry "github.com/yandex-cloud/go-genproto/yandex/cloud/containerregistry/v1"
	"github.com/yandex-cloud/go-genproto/yandex/cloud/operation"
	"github.com/yandex-cloud/go-sdk/v2/pkg/iterator"
	sdkop "github.com/yandex-cloud/go-sdk/v2/pkg/operation"
	"github.com/yandex-cloud/go-sdk/v2/pkg/transport"
)

const operationGet = protoreflect.FullName("yandex.cloud.operation.OperationService.Get")

func method(service, name string) protoreflect.FullName {
	return protoreflect.FullName("yandex.cloud.containerregistry.v1." + service + "." + name)
}

// poller is the generated clients' pollOperation.
func poller(connector transport.Connector) sdkop.PollFunc {
	return func(ctx context.Context, id string, opts ...grpc.CallOption) (sdkop.YCOperation, error) {
		connection, err := connector.GetConnection(ctx, operationGet, opts...)
		if err != nil {
			return nil, err
		}
		return operation.NewOperationServiceClient(connection).Get(ctx, &operation.GetOperationRequest{OperationId: id}, opts...)
	}
}

func newOperation(connector transport.Connector, pb *operation.Operation, err error, metadata, response proto.Message,
	resourceID func(proto.Message) string) (*sdkop.Operation, error) {
	if err != nil {
		return nil, err
	}
	return sdkop.NewOperation(pb, &sdkop.Concretization{
		Poll: poller(connector), MetadataType: metadata, ResponseType: response, GetResourceID: resourceID,
	})
}

// ImageClient is ImageService.
type ImageClient struct{ connector transport.Connector }

func (c ImageClient) service(ctx context.Context, name string) (containerregistry.ImageServiceClient, error) {
	connection, err := c.connector.GetConnection(ctx, method("ImageService", name))
	if err != nil {
		return nil, err
	}
	return containerregistry.NewImageServiceClient(connection), nil
}

func (c ImageClient) List(ctx context.Context, in *containerregistry.ListImagesRequest, opts ...grpc.CallOption) (*containerregistry.ListImagesResponse, error) {
	service, err := c.service(ctx, "List")
	if err != nil {
		return nil, err
	}
	return service.List(ctx, in, opts...)
}

func (c ImageClient) Get(ctx context.Context, in *containerregistry.GetImageRequest, opts ...grpc.CallOption) (*containerregistry.Image, error) {
	service, err := c.service(ctx, "Get")
	if err != nil {
		return nil, err
	}
	return service.Get(ctx, in, opts...)
}

func (c ImageClient) Delete(ctx context.Context, in *containerregistry.DeleteImageRequest, opts ...grpc.CallOption) (*sdkop.Operation, error) {
	service, err := c.service(ctx, "Delete")
	if err != nil {
		return nil, err
	}
	pb, err := service.Delete(ctx, in, opts...)
	return newOperation(c.connector, pb, err, (*containerregistry.DeleteImageMetadata)(nil), (*emptypb.Empty)(nil),
		func(m proto.Message) string { return m.(*containerregistry.DeleteImageMetadata).GetImageId() })
}

type imagePage struct {
	*containerregistry.ListImagesResponse
}

func (r imagePage) Items() []*containerregistry.Image { return r.Images }

func (c ImageClient) ImagesIterator(ctx context.Context, req *containerregistry.ListImagesRequest, opts ...grpc.CallOption) *iterator.Iterator[*containerregistry.ListImagesRequest, *containerregistry.Image] {
	return iterator.NewIterator[*containerregistry.ListImagesRequest, *containerregistry.Image](ctx, req,
		func(ctx context.Context, req *containerregistry.ListImagesRequest, opts ...grpc.CallOption) (iterator.PageResponse[*containerregistry.Image], error) {
			resp, err := c.List(ctx, req, opts...)
			if err != nil {
				return nil, err
			}
			return imagePage{resp}, nil
		}, opts...)
}

// RegistryClient is RegistryService.
type RegistryClient struct{ connector transport.Connector }

func (c RegistryClient) service(ctx context.Context, name string) (containerregistry.RegistryServiceClient, error) {
	connection, err := c.connector.GetConnection(ctx, method("RegistryService", name))
	if err != nil {
		return nil, err
	}
	return containerregistry.NewRegistryServiceClient(connection), nil
}

func (c RegistryClient) Get(ctx context.Context, in *containerregistry.GetRegistryRequest, opts ...grpc.CallOption) (*containerregistry.Registry, error) {
	service, err := c.service(ctx, "Get")
	if err != nil {
		return nil, err
	}
	return service.Get(ctx, in, opts...)
}

func (c RegistryClient) List(ctx context.Context, in *containerregistry.ListRegistriesRequest, opts ...grpc.CallOption) (*containerregistry.ListRegistriesResponse, error) {
	service, err := c.service(ctx, "List")
	if err != nil {
		return nil, err
	}
	return service.List(ctx, in, opts...)
}

type registryPage struct {
	*containerregistry.ListRegistriesResponse
}

func (r registryPage) Items() []*containerregistry.Registry { return r.Registries }

func (c RegistryClient) RegistriesIterator(ctx context.Context, req *containerregistry.ListRegistriesRequest, opts ...grpc.CallOption) *iterator.Iterator[*containerregistry.ListRegistriesRequest, *containerregistry.Registry] {
	return iterator.NewIterator[*containerregistry.ListRegistriesRequest, *containerregistry.Registry](ctx, req,
		func(ctx context.Context, req *containerregistry.ListRegistriesRequest, opts ...grpc.CallOption) (iterator.PageResponse[*containerregistry.Registry], error) {
			resp, err := c.List(ctx, req, opts...)
			if err != nil {
				return nil, err
			}
			return registryPage{resp}, nil
		}, opts...)
}

func (c RegistryClient) Create(ctx context.Context, in *containerregistry.CreateRegistryRequest, opts ...grpc.CallOption) (*sdkop.Operation, error) {
	service, err := c.service(ctx, "Create")
	if err != nil {
		return nil, err
	}
	pb, err := service.Create(ctx, in, opts...)
	return newOperation(c.connector, pb, err, (*containerregistry.CreateRegistryMetadata)(nil), (*containerregistry.Registry)(nil),
		func(m proto.Message) string { return m.(*containerregistry.CreateRegistryMetadata).GetRegistryId() })
}

func (c RegistryClient) Delete(ctx context.Context, in *containerregistry.DeleteRegistryRequest, opts ...grpc.CallOption) (*sdkop.Operation, error) {
	service, err := c.service(ctx, "Delete")
	if err != nil {
		return nil, err
	}
	pb, err := service.Delete(ctx, in, opts...)
	return newOperation(c.connector, pb, err, (*containerregistry.DeleteRegistryMetadata)(nil), (*emptypb.Empty)(nil),
		func(m proto.Message) string { return m.(*containerregistry.DeleteRegistryMetadata).GetRegistryId() })
}

// RepositoryClient is RepositoryService.
type RepositoryClient struct{ connector transport.Connector }

func (c RepositoryClient) service(ctx context.Context, name string) (containerregistry.RepositoryServiceClient, error) {
	connection, err := c.connector.GetConnection(ctx, method("RepositoryService", name))
	if err != nil {
		return nil, err
	}
	return containerregistry.NewRepositoryServiceClient(connection), nil
}

func (c RepositoryClient) GetByName(ctx context.Context, in *containerregistry.GetRepositoryByNameRequest, opts ...grpc.CallOption) (*containerregistry.Repository, error) {
	service, err := c.service(ctx, "GetByName")
	if err != nil {
		return nil, err
	}
	return service.GetByName(ctx, in, opts...)
}

func (c RepositoryClient) List(ctx context.Context, in *containerregistry.ListRepositoriesRequest, opts ...grpc.CallOption) (*containerregistry.ListRepositoriesResponse, error) {
	service, err := c.service(ctx, "List")
	if err != nil {
		return nil, err
	}
	return service.List(ctx, in, opts...)
}

type repositoryPage struct {
	*containerregistry.ListRepositoriesResponse
}

func (r repositoryPage) Items() []*containerregistry.Repository { return r.Repositories }

func (c RepositoryClient) RepositoriesIterator(ctx context.Context, req *containerregistry.ListRepositoriesRequest, opts ...grpc.CallOption) *iterator.Iterator[*containerregistry.ListRepositoriesRequest, *containerregistry.Repository] {
	return iterator.NewIterator[*containerregistry.ListRepositoriesRequest, *containerregistry.Repository](ctx, req,
		func(ctx context.Context, req *containerregistry.ListRepositoriesRequest, opts ...grpc.CallOption) (iterator.PageResponse[*containerregistry.Repository], error) {
			resp, err := c.List(ctx, req, opts...)
			if err != nil {
				return nil, err
			}
			return repositoryPage{resp}, nil
		}, opts...)
}

// LifecyclePolicyClient is LifecyclePolicyService.
type LifecyclePolicyClient struct{ connector transport.Connector }

func (c LifecyclePolicyClient) service(ctx context.Context, name string) (containerregistry.LifecyclePolicyServiceClient, error) {
	connection, err := c.connector.GetConnection(ctx, method("LifecyclePolicyService", name))
	if err != nil {
		return nil, err
	}
	return containerregistry.NewLifecyclePolicyServiceClient(connection), nil
}

func (c LifecyclePolicyClient) Get(ctx context.Context, in *containerregistry.GetLifecyclePolicyRequest, opts ...grpc.CallOption) (*containerregistry.LifecyclePolicy, error) {
	service, err := c.service(ctx, "Get")
	if err != nil {
		return nil, err
	}
	return service.Get(ctx, in, opts...)
}

func (c LifecyclePolicyClient) Create(ctx context.Context, in *containerregistry.CreateLifecyclePolicyRequest, opts ...grpc.CallOption) (*sdkop.Operation, error) {
	service, err := c.service(ctx, "Create")
	if err != nil {
		return nil, err
	}
	pb, err := service.Create(ctx, in, opts...)
	return newOperation(c.connector, pb, err, (*containerregistry.CreateLifecyclePolicyMetadata)(nil), (*containerregistry.LifecyclePolicy)(nil),
		func(m proto.Message) string {
			return m.(*containerregistry.CreateLifecyclePolicyMetadata).GetLifecyclePolicyId()
		})
}

func (c LifecyclePolicyClient) Delete(ctx context.Context, in *containerregistry.DeleteLifecyclePolicyRequest, opts ...grpc.CallOption) (*sdkop.Operation, error) {
	service, err := c.service(ctx, "Delete")
	if err != nil {
		return nil, err
	}
	pb, err := service.Delete(ctx, in, opts...)
	return newOperation(c.connector, pb, err, (*containerregistry.DeleteLifecyclePolicyMetadata)(nil), (*emptypb.Empty)(nil),
		func(m proto.Message) string {
			return m.(*containerregistry.DeleteLifecyclePolicyMetadata).GetLifecyclePolicyId()
		})
}

func (c LifecyclePolicyClient) DryRun(ctx context.Context, in *containerregistry.DryRunLifecyclePolicyRequest, opts ...grpc.CallOption) (*sdkop.Operation, error) {
	service, err := c.service(ctx, "DryRun")
	if err != nil {
		return nil, err
	}
	pb, err := service.DryRun(ctx, in, opts...)
	return newOperation(c.connector, pb, err, (*containerregistry.DryRunLifecyclePolicyMetadata)(nil), (*containerregistry.DryRunLifecyclePolicyResult)(nil),
		func(m proto.Message) string {
			return m.(*containerregistry.DryRunLifecyclePolicyMetadata).GetDryRunLifecyclePolicyResultId()
		})
}

func (c LifecyclePolicyClient) GetDryRunResult(ctx context.Context, in *containerregistry.GetDryRunLifecyclePolicyResultRequest, opts ...grpc.CallOption) (*containerregistry.DryRunLifecyclePolicyResult, error) {
	service, err := c.service(ctx, "GetDryRunResult")
	if err != nil {
		return nil, err
	}
	return service.GetDryRunResult(ctx, in, opts...)
}

func (c LifecyclePolicyClient) ListDryRunResultAffectedImages(ctx context.Context, in *containerregistry.ListDryRunLifecyclePolicyResultAffectedImagesRequest, opts ...grpc.CallOption) (*containerregistry.ListDryRunLifecyclePolicyResultAffectedImagesResponse, error) {
	service, err := c.service(ctx, "ListDryRunResultAffectedImages")
	if err != nil {
		return nil, err
	}
	return service.ListDryRunResultAffectedImages(ctx, in, opts...)
}

type affectedImagePage struct {
	*containerregistry.ListDryRunLifecyclePolicyResultAffectedImagesResponse
}

func (r affectedImagePage) Items() []*containerregistry.Image { return r.AffectedImages }

func (c LifecyclePolicyClient) DryRunResultAffectedImagesIterator(ctx context.Context, req *containerregistry.ListDryRunLifecyclePolicyResultAffectedImagesRequest, opts ...grpc.CallOption) *iterator.Iterator[*containerregistry.ListDryRunLifecyclePolicyResultAffectedImagesRequest, *containerregistry.Image] {
	return iterator.NewIterator[*containerregistry.ListDryRunLifecyclePolicyResultAffectedImagesRequest, *containerregistry.Image](ctx, req,
		func(ctx context.Context, req *containerregistry.ListDryRunLifecyclePolicyResultAffectedImagesRequest, opts ...grpc.CallOption) (iterator.PageResponse[*containerregistry.Image], error) {
			resp, err := c.ListDryRunResultAffectedImages(ctx, req, opts...)
			if err != nil {
				return nil, err
			}
			return affectedImagePage{resp}, nil
		}, opts...)
}

// ScannerClient is ScannerService.
type ScannerClient struct{ connector transport.Connector }

func (c ScannerClient) service(ctx context.Context, name string) (containerregistry.ScannerServiceClient, error) {
	connection, err := c.connector.GetConnection(ctx, method("ScannerService", name))
	if err != nil {
		return nil, err
	}
	return containerregistry.NewScannerServiceClient(connection), nil
}

func (c ScannerClient) Scan(ctx context.Context, in *containerregistry.ScanRequest, opts ...grpc.CallOption) (*sdkop.Operation, error) {
	service, err := c.service(ctx, "Scan")
	if err != nil {
		return nil, err
	}
	pb, err := service.Scan(ctx, in, opts...)
	return newOperation(c.connector, pb, err, (*containerregistry.ScanMetadata)(nil), (*containerregistry.ScanResult)(nil),
		func(m proto.Message) string { return m.(*containerregistry.ScanMetadata).GetScanResultId() })
}

func (c ScannerClient) Get(ctx context.Context, in *containerregistry.GetScanResultRequest, opts ...grpc.CallOption) (*containerregistry.ScanResult, error) {
	service, err := c.service(ctx, "Get")
	if err != nil {
		return nil, err
	}
	return service.Get(ctx, in, opts...)
}

func (c ScannerClient) GetLast(ctx context.Context, in *containerregistry.GetLastScanResultRequest, opts ...grpc.CallOption) (*containerregistry.ScanResult, error) {
	service, err := c.service(ctx, "GetLast")
	if err != nil {
		return nil, err
	}
	return service.GetLast(ctx, in, opts...)
}

func (c ScannerClient) ListVulnerabilities(ctx context.Context, in *containerregistry.ListVulnerabilitiesRequest, opts ...grpc.CallOption) (*containerregistry.ListVulnerabilitiesResponse, error) {
	service, err := c.service(ctx, "ListVulnerabilities")
	if err != nil {
		return nil, err
	}
	return service.ListVulnerabilities(ctx, in, opts...)
}

type vulnerabilityPage struct {
	*containerregistry.ListVulnerabilitiesResponse
}

func (r vulnerabilityPage) Items() []*containerregistry.Vulnerability { return r.Vulnerabilities }

func (c ScannerClient) VulnerabilitiesIterator(ctx context.Context, req *containerregistry.ListVulnerabilitiesRequest, opts ...grpc.CallOption) *iterator.Iterator[*containerregistry.ListVulnerabilitiesRequest, *containerregistry.Vulnerability] {
	return iterator.NewIterator[*containerregistry.ListVulnerabilitiesRequest, *containerregistry.Vulnerability](ctx, req,
		func(ctx context.Context, req *containerregistry.ListVulnerabilitiesRequest, opts ...grpc.CallOption) (iterator.PageResponse[*containerregistry.Vulnerability], error) {
			resp, err := c.ListVulnerabilities(ctx, req, opts...)
			if err != nil {
				return nil, err
			}
			return vulnerabilityPage{resp}, nil
		}, opts...)
}
