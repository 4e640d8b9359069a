package tcsim

import (
	"errors"
	"testing"
)

type decodeTarget struct {
	Name  *string `tc:"required"`
	Count *uint64
	Flag  *bool
	Tags  []*decodeInner
	IDs   []uint64 `json:"Ids"`
}

type decodeInner struct {
	Key   *string `json:"Key" tc:"required"`
	Value *string `json:"Value"`
}

func TestDecodeParams(t *testing.T) {
	tests := []struct {
		name string
		body string
		code string
	}{
		{"minimal", `{"Name":"a"}`, ""},
		{"everything", `{"Name":"a","Count":3,"Flag":true,"Tags":[{"Key":"k","Value":"v"}],"Ids":[1,2]}`, ""},
		{"whitespace around", " \n{\"Name\":\"a\"}\t", ""},
		{"null optional", `{"Name":"a","Count":null,"Tags":null}`, ""},
		{"empty body", ``, codeMissingParameter},
		{"missing required", `{"Count":1}`, codeMissingParameter},
		{"null required", `{"Name":null}`, codeMissingParameter},
		{"missing nested required", `{"Name":"a","Tags":[{"Value":"v"}]}`, codeMissingParameter},
		{"unknown", `{"Name":"a","Nmae":"b"}`, codeUnknownParameter},
		{"wrong case", `{"name":"a"}`, codeUnknownParameter},
		{"Go name of a tagged field", `{"Name":"a","IDs":[1]}`, codeUnknownParameter},
		{"unknown nested", `{"Name":"a","Tags":[{"Key":"k","Extra":1}]}`, codeUnknownParameter},
		{"string for integer", `{"Name":"a","Count":"3"}`, codeInvalidParameter},
		{"negative for unsigned", `{"Name":"a","Count":-1}`, codeInvalidParameter},
		{"fraction for integer", `{"Name":"a","Count":1.5}`, codeInvalidParameter},
		{"integer for string", `{"Name":5}`, codeInvalidParameter},
		{"object for array", `{"Name":"a","Tags":{"Key":"k"}}`, codeInvalidParameter},
		{"array element of wrong type", `{"Name":"a","Ids":[1,"2"]}`, codeInvalidParameter},
		{"array body", `[{"Name":"a"}]`, codeInvalidParameter},
		{"not JSON", `Name=a`, codeInvalidParameter},
		{"trailing garbage", `{"Name":"a"} x`, codeInvalidParameter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dst decodeTarget
			err := decodeParams([]byte(tt.body), &dst)
			code := ""
			if err != nil {
				var ae *apiError
				if !errors.As(err, &ae) {
					t.Fatalf("error %v is not an API error", err)
				}
				code = ae.Code
			}
			if code != tt.code {
				t.Errorf("code %q, want %q (%v)", code, tt.code, err)
			}
		})
	}
}

// FuzzDecodeParams: no body may panic the decoder or yield anything but an API error.
func FuzzDecodeParams(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, `null`, `[]`, `"x"`, `{"Name":"a"}`, `{"Tags":[{"Key":null}]}`, `{"IDs":[1e999]}`,
		`{"Domain":"example.test","RecordType":"TXT","RecordLine":"默认","Value":"v","TTL":600}`,
		`{"Name":"\ud800"}`, `{"Tags":[[[[]]]]}`, `{"Count":18446744073709551616}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		targets := []any{
			&decodeTarget{}, &createRecordParams{}, &describeRecordListParams{}, &describeDomainListParams{},
			&uploadCertificateParams{}, &describeLoadBalancersParams{}, &modifyListenerParams{}, &Topology{},
		}
		for _, dst := range targets {
			if err := decodeParams(body, dst); err != nil {
				var ae *apiError
				if !errors.As(err, &ae) {
					t.Fatalf("%T: non-API error %v", dst, err)
				}
			}
		}
	})
}
