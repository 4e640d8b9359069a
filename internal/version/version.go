// Package version holds the release version of clbcert's binaries.
//
// scripts/release.sh stamps it at link time with
//
//	-ldflags "-X github.com/clbcert/clbcert/internal/version.Version=1.2.3"
//
// so each main shows it in --version and in its man page.
package version

// Version is "dev" in a build without the stamp, such as install.sh's build
// from source. It is a variable only because the linker can set nothing else.
var Version = "dev"
