package clbopts

import (
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	clbcli "github.com/clbcert/clbcert/internal/cli"
	"github.com/clbcert/clbcert/pkg/ssl"
)

const (
	flagProduct = "product"
	// productAll is every product the SSL service can update on the site.
	productAll = "all"
)

// ProductFlag is --product (CLBCERT_PRODUCTS; config file: products).
func ProductFlag() cli.Flag {
	return &cli.StringSliceFlag{Name: flagProduct, EnvVars: []string{"CLBCERT_PRODUCTS"},
		Usage: "`PRODUCT` whose resources follow the lineage: clb (the default), cdn, teo, waf, cos, ... or all (repeatable; env: a comma list; config file: products)"}
}

// Products are the products lineageName's certificate goes to, by the SSL
// service's names, sorted: those of --product / CLBCERT_PRODUCTS, else of
// its [[deploy]] entry, else the file's products, else clb alone. "all" is
// every type the SSL service can update on the site. A name the site does
// not know is a usage error.
func Products(c *cli.Context, s *clbcli.Settings, lineageName string) ([]string, error) {
	var raw []string
	source := "--product / CLBCERT_PRODUCTS"
	entry, _ := s.File.DeployFor(lineageName)
	switch {
	case c != nil && clbcli.HasFlag(c, flagProduct) && c.IsSet(flagProduct):
		raw = c.StringSlice(flagProduct)
	case len(entry.Products) > 0:
		raw, source = entry.Products, fmt.Sprintf("config file %s, [[deploy]] %s: products", s.File.Path, lineageName)
	case len(s.File.Products) > 0:
		raw, source = s.File.Products, fmt.Sprintf("config file %s: products", s.File.Path)
	default:
		return []string{"clb"}, nil
	}
	known := ssl.Types(s.Site)
	var out []string
	for _, r := range raw {
		for _, name := range strings.Split(r, ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			switch ok, chinaOnly := ssl.TypeOn(s.Site, name); {
			case name == "":
			case name == productAll:
				out = append(out, known...)
			case chinaOnly:
				return nil, clbcli.Usagef("%s: %s is not updated by the SSL service on the %s site: leave it out (it has %s)", source, name, s.Site, strings.Join(known, " "))
			case !ok:
				return nil, clbcli.Usagef("%s: unknown product %q: give all or some of %s", source, name, strings.Join(known, " "))
			default:
				out = append(out, name)
			}
		}
	}
	if len(out) == 0 {
		return nil, clbcli.Usagef("%s: no product given: give all or some of %s", source, strings.Join(known, " "))
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
