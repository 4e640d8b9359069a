package tcsim

// window is an Offset/Limit request's window with the action's defaults: no
// Offset is 0, no Limit is def. Each action then checks the range its own way
// (the products answer out-of-range values with different codes).
func window[N int64 | uint64](offset, limit *N, def N) (N, N) {
	o, l := N(0), def
	if offset != nil {
		o = *offset
	}
	if limit != nil {
		l = *limit
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
