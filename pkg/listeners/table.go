package listeners

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/clbcert/clbcert/pkg/inventory"
)

// column is a table column; cells longer than max are cut with "…", which
// keeps a row within about 120 columns.
type column struct {
	title string
	max   int
}

// Columns, in this order for good: scripts may cut them.
var columns = []column{
	{"LISTENER", 12}, {"PROTO:PORT", 13}, {"RULE", 20}, {"CERTIFICATE", 16}, {"DAYS", 6},
	{"SCHED", 10}, {"SESS", 6}, {"HEALTH CHECK", 24}, {"BACKENDS", 8},
}

// Legend explains the table's cells, for --help.
const Legend = `One line per listener, then one per forwarding rule of an HTTP/HTTPS
listener (LISTENER shows the rule's location id), under a line per load
balancer with its TLS protocols. CERTIFICATE is the first name of the
certificate (+N more names), "per domain" on an SNI listener, "no TLS" on
HTTP/TCP/UDP; DAYS is the days left before it expires. A binding of two
certificates (RSA and ECC) gets a line per member with its id and days
left; mutual TLS a line with ON or OPTIONAL and the client CA. SESS is session
persistence. HEALTH CHECK is type, path, interval/timeout and
healthy/unhealthy thresholds. BACKENDS is healthy/registered.`

// WriteTable prints the view for a person: a header, then per load balancer
// a line with its region, id, name, VIP and TLS protocols followed by its
// listeners and rules, and the failures last.
func (v *View) WriteTable(w io.Writer) error {
	bw := bufio.NewWriter(w)
	rows := [][]string{}
	type block struct {
		head string
		rows [][]string
	}
	var blocks []block
	for _, lb := range v.LoadBalancers {
		b := block{head: lbLine(lb)}
		for _, l := range lb.Listeners {
			b.rows = append(b.rows, cutAll(listenerRow(l)))
			if !l.SNI {
				b.rows = append(b.rows, bindingRows(l.Certificate)...)
			}
			for _, r := range l.Rules {
				b.rows = append(b.rows, cutAll(ruleRow(l, r)))
				if l.SNI {
					b.rows = append(b.rows, bindingRows(r.Certificate)...)
				}
			}
		}
		rows = append(rows, b.rows...)
		blocks = append(blocks, b)
	}
	widths := make([]int, len(columns))
	for i, c := range columns {
		widths[i] = utf8.RuneCountInString(c.title)
	}
	for _, r := range rows {
		for i, cell := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	titles := make([]string, len(columns))
	for i, c := range columns {
		titles[i] = c.title
	}
	writeRow(bw, titles, widths)
	for _, b := range blocks {
		fmt.Fprintln(bw, b.head)
		for _, r := range b.rows {
			writeRow(bw, r, widths)
		}
	}
	for _, f := range v.Failures {
		fmt.Fprintf(bw, "UNREADABLE %s: %s\n", f.Where(), f.Error)
	}
	if len(v.LoadBalancers) == 0 && len(v.Failures) == 0 {
		fmt.Fprintf(bw, "no load balancers in %s\n", strings.Join(v.Regions, ", "))
	}
	return bw.Flush()
}

func writeRow(w io.Writer, cells []string, widths []int) {
	var b strings.Builder
	for i, cell := range cells {
		b.WriteString(cell)
		if i < len(cells)-1 {
			b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell)+2))
		}
	}
	fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
}

func cutAll(cells []string) []string {
	for i := range cells {
		cells[i] = cut(cells[i], columns[i].max)
	}
	return cells
}

func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func lbLine(lb LoadBalancer) string {
	parts := []string{lb.Region, lb.ID}
	if lb.Name != "" && lb.Name != lb.ID {
		parts = append(parts, fmt.Sprintf("%q", lb.Name))
	}
	parts = append(parts, lb.VIPs...)
	tls := "TLS ?"
	switch {
	case len(lb.TLSProtocols) == 0:
	case lb.TLSProtocolsDefault:
		tls = "TLS default (" + strings.Join(lb.TLSProtocols, " ") + ")"
	default:
		tls = "TLS " + strings.Join(lb.TLSProtocols, " ")
	}
	if lb.CustomizedConfigID != "" {
		tls += " [" + lb.CustomizedConfigID + "]"
	}
	return "# " + strings.Join(parts, " ") + "  " + tls
}

func listenerRow(l Listener) []string {
	proto := fmt.Sprintf("%s:%d", l.Protocol, l.Port)
	if !inventory.IsLayer7(l.Protocol) {
		return append([]string{l.ID, proto, "-", certCell(l.TLS, l.Certificate), daysCell(l.Certificate)}, l.cells()...)
	}
	rule, certificate := "sni off", certCell(l.TLS, l.Certificate)
	if l.SNI {
		rule, certificate = "sni on", "per domain"
	}
	if !l.TLS {
		rule = "-"
	}
	return []string{l.ID, proto, rule, certificate, daysCell(l.Certificate), "per rule", "", "", ""}
}

func ruleRow(l Listener, r Rule) []string {
	certificate := ""
	if l.SNI {
		certificate = certCell(true, r.Certificate)
	}
	return append([]string{r.LocationID, "", r.Domain + r.URL, certificate, daysCell(r.Certificate)}, r.cells()...)
}

// cells are the table's columns of the balancing.
func (b Balancing) cells() []string {
	return []string{dash(b.Scheduler), session(b.SessionExpireTime), healthCell(b.HealthCheck), backendsCell(b.Backends)}
}

func certCell(tls bool, c *Cert) string {
	switch {
	case !tls:
		return "no TLS"
	case c == nil:
		return "none"
	}
	return namesCell(c)
}

// bindingRows are the lines under a listener's or SNI domain's row for a
// binding with more than one certificate (one per member: its key
// algorithm, id and days left) and for mutual TLS (the client CA and
// whether a client certificate is required).
func bindingRows(c *Cert) [][]string {
	if c == nil {
		return nil
	}
	var rows [][]string
	if len(c.Members) > 1 {
		for _, m := range c.Members {
			rows = append(rows, cutAll([]string{"", "", "  " + cmp.Or(m.Algorithm, "?") + " member", m.ID, daysCell(&m), "", "", "", ""}))
		}
	}
	if c.SSLMode == "MUTUAL" {
		rows = append(rows, cutAll([]string{"", "", "  mTLS " + c.SSLVerifyClient, "CA " + c.CAID, "", "", "", "", ""}))
	}
	return rows
}

// namesCell is a certificate's names, shortened; its id when it has none
// or is unknown.
func namesCell(c *Cert) string {
	switch {
	case !c.Known:
		return "unknown " + c.ID
	case len(c.Names) == 0:
		return c.ID
	case len(c.Names) == 1:
		return c.Names[0]
	}
	return fmt.Sprintf("%s +%d", c.Names[0], len(c.Names)-1)
}

func daysCell(c *Cert) string {
	if c == nil || !c.Known {
		return ""
	}
	return fmt.Sprint(c.DaysLeft)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func session(s int64) string {
	if s == 0 {
		return "off"
	}
	return fmt.Sprintf("%ds", s)
}

func healthCell(h *inventory.HealthCheck) string {
	switch {
	case h == nil:
		return "-"
	case !h.On:
		return "off"
	}
	typ := dash(h.CheckType)
	if h.CheckType == "HTTP" || h.CheckType == "HTTPS" {
		typ += " " + cut(h.HTTPCheckPath, 8)
	}
	return fmt.Sprintf("%s %ds/%ds %d/%d", typ, h.IntervalTime, h.TimeOut, h.HealthNum, h.UnHealthNum)
}

func backendsCell(bs []Backend) string {
	if len(bs) == 0 {
		return "-"
	}
	healthy := 0
	for _, b := range bs {
		if b.Healthy {
			healthy++
		}
	}
	return fmt.Sprintf("%d/%d", healthy, len(bs))
}
