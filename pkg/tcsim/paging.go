package tcsim

// paging is the Offset and Limit parameters of a listing, embedded in its
// parameters.
type paging[N int64 | uint64] struct {
	Offset *N `json:"Offset"`
	Limit  *N `json:"Limit"`
}

// window is the listing's window with the action's defaults: no Offset is
// 0, no Limit is def. Each action then checks the range its own way (the
// products answer out-of-range values with different codes).
func (p paging[N]) window(def N) (N, N) {
	o, l := N(0), def
	if p.Offset != nil {
		o = *p.Offset
	}
	if p.Limit != nil {
		l = *p.Limit
	}
	return o, l
}

// page returns items[offset:offset+limit], clamped.
func page[T any](items []T, offset, limit uint64) []T {
	n := uint64(len(items))
	if offset >= n {
		return nil
	}
	return items[offset:min(n, offset+min(limit, n))]
}
