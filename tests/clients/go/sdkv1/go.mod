module ycrtest/sdkv1

go 1.21

require (
	github.com/yandex-cloud/go-genproto v0.111.0
	github.com/yandex-cloud/go-sdk v0.33.0
	google.golang.org/grpc v1.66.2
	google.golang.org/protobuf v1.34.2
	ycrtest/check v0.0.0
)

require (
	github.com/ghodss/yaml v1.0.0 // indirect
	github.com/golang-jwt/jwt/v4 v4.5.1 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/hashicorp/errwrap v1.0.0 // indirect
	github.com/hashicorp/go-multierror v1.1.1 // indirect
	golang.org/x/net v0.28.0 // indirect
	golang.org/x/sys v0.24.0 // indirect
	golang.org/x/text v0.17.0 // indirect
	google.golang.org/genproto v0.0.0-20240903143218-8af14fe29dc1 // indirect
	google.golang.org/genproto/googleapis/api v0.0.0-20240903143218-8af14fe29dc1 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20240903143218-8af14fe29dc1 // indirect
	gopkg.in/yaml.v2 v2.4.0 // indirect
)

replace ycrtest/check => ../check
