package inventory

import "context"

// Certificates describes the given ids; ids unknown to the SSL service are
// absent.
func (c *Client) Certificates(ctx context.Context, ids []string) (map[string]Certificate, error) {
	return c.ssl.Certificates(ctx, ids)
}

// CertificatesByAlias lists the certificates whose alias starts with prefix.
func (c *Client) CertificatesByAlias(ctx context.Context, prefix string) ([]Certificate, error) {
	return c.ssl.CertificatesByAlias(ctx, prefix)
}

// Fingerprint is a certificate's SHA-256 and SHA-1 fingerprints, as
// ssl.Client.Fingerprint learns them.
func (c *Client) Fingerprint(ctx context.Context, id string) (sha256, sha1 string, err error) {
	return c.ssl.Fingerprint(ctx, id)
}
