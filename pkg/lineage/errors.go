package lineage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// ErrInvalid marks a lineage whose files were read but whose content cannot
// be deployed: bad PEM, a key that does not match, a broken chain, a
// certificate outside its validity period. Anything else Load returns wraps
// the I/O error instead (fs.ErrNotExist, fs.ErrPermission, syscall.ELOOP,
// syscall.EISDIR…), so a caller can tell "retry later or fix permissions"
// from "this lineage is wrong".
var ErrInvalid = errors.New("invalid certbot lineage")

// ErrMissingIssuer marks a fullchain.pem that holds a leaf without the
// certificate that issued it (and, with Options.ChainFromChainPEM, a
// chain.pem that does not supply it either). It is an ErrInvalid.
var ErrMissingIssuer = fmt.Errorf("%w: the leaf's issuer is missing", ErrInvalid)

// Error is a problem with one file or directory of a lineage. Its message is
// one line: the path, what is wrong and what to do about it. It never holds
// any of the private key.
type Error struct {
	Path string // the file or directory at fault, as joined from Load's dir
	Err  error  // ErrInvalid, or the underlying I/O error
	msg  string
}

func (e *Error) Error() string { return e.msg }
func (e *Error) Unwrap() error { return e.Err }

func newError(path string, err error, format string, args ...any) *Error {
	// Paths and x509 messages are not ours to trust: keep the promise of one
	// line so the error reads well in certbot's hook output and in the journal.
	msg := strings.NewReplacer("\r", " ", "\n", " ").Replace(fmt.Sprintf(format, args...))
	return &Error{Path: path, Err: err, msg: msg}
}

func invalid(path, format string, args ...any) *Error {
	return newError(path, ErrInvalid, format, args...)
}

// fileError explains why path (fullchain.pem or privkey.pem in a live/NAME
// directory) could not be opened.
func fileError(path string, err error) *Error {
	fix := linkFix(path)
	switch {
	case errors.Is(err, syscall.ELOOP):
		return newError(path, err, "%s is a symlink loop: following it never reaches a file; %s", path, fix)
	case errors.Is(err, fs.ErrNotExist):
		// A dangling link is what a half-restored backup or a pruned archive/
		// leaves behind; saying where it points is the useful part.
		if target, lerr := os.Readlink(path); lerr == nil {
			return newError(path, err, "%s is a symlink to %s, which does not exist; %s", path, target, fix)
		}
		return newError(path, err, "%s does not exist: a certbot live/NAME directory holds fullchain.pem and privkey.pem (while certbot renews, the links vanish for a moment: retry); %s", path, fix)
	case errors.Is(err, fs.ErrPermission):
		return newError(path, err, "%s cannot be read: permission denied; run as root, or as the user that owns certbot's files (certbot keeps archive/ and private keys readable by root only)", path)
	}
	return newError(path, err, "%s cannot be read: %v", path, errnoOf(err))
}

// linkFix says how to mend a live/NAME/KIND.pem link that leads nowhere.
func linkFix(path string) string {
	kind := strings.TrimSuffix(filepath.Base(path), ".pem")
	return fmt.Sprintf("make it a link to ../../archive/%s/%sN.pem again (N the newest there), or run certbot renew --force-renewal",
		lineageName(filepath.Dir(path)), kind)
}

// contentFix says how to replace a file of a lineage whose content is wrong.
func contentFix(path string) string {
	return fmt.Sprintf("run certbot renew --force-renewal to write a new one, or restore it from archive/%s/", lineageName(filepath.Dir(path)))
}

// errnoOf drops the operation and path that an *fs.PathError repeats, since
// our messages already start with the path.
func errnoOf(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
