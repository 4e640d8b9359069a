package lineage

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// maxFileSize bounds what Load reads: a fullchain is a few kilobytes, and
// a lineage pointed at a huge file by mistake should fail, not fill memory.
const maxFileSize = 1 << 20

// readDir checks that dir is there and is a directory, so that a wrong
// --lineage or RENEWED_LINEAGE is reported as such rather than as two
// missing files.
func readDir(dir string) error {
	if dir == "" {
		return invalid(dir, "no lineage directory given: pass certbot's live/NAME directory, e.g. /etc/letsencrypt/live/example.com")
	}
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return newError(dir, err, "lineage directory %s does not exist: pass certbot's live/NAME directory, e.g. /etc/letsencrypt/live/example.com", dir)
	case err != nil:
		return newError(dir, err, "lineage directory %s cannot be read: %v", dir, errnoOf(err))
	case !fi.IsDir():
		return newError(dir, &fs.PathError{Op: "open", Path: dir, Err: syscall.ENOTDIR},
			"%s is not a directory: pass certbot's live/NAME directory, not a file in it", dir)
	}
	return nil
}

// readFile reads one file of a lineage, following symlinks as certbot's
// live/ links into ../../archive/ require.
func readFile(path string) ([]byte, error) {
	// Stat before Open: opening a FIFO left where a file should be would
	// block until something writes to it.
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fileError(path, err)
	}
	switch {
	case fi.IsDir():
		return nil, newError(path, &fs.PathError{Op: "read", Path: path, Err: syscall.EISDIR},
			"%s is a directory, not a file; %s", path, linkFix(path))
	case !fi.Mode().IsRegular():
		return nil, invalid(path, "%s is not a regular file (%s); %s", path, fi.Mode().Type(), linkFix(path))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fileError(path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fileError(path, err)
	}
	switch {
	case len(data) > maxFileSize:
		return nil, invalid(path, "%s is larger than %d bytes, far more than a certificate or key; %s", path, maxFileSize, contentFix(path))
	case len(bytes.TrimSpace(data)) == 0:
		return nil, invalid(path, "%s is empty: certbot was interrupted or the disk was full when it was written; %s", path, contentFix(path))
	}
	return data, nil
}
