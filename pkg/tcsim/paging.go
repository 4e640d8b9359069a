package tcsim

import (
	"cmp"
	"strconv"
)

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

// pagingParams reads the Limit and Offset of the SSL service's paged calls, which it takes
// as strings of digits.
func pagingParams(limit, offset *string, def, max uint64) (uint64, uint64, error) {
	l, o := def, uint64(0)
	if limit != nil {
		n, err := strconv.ParseUint(*limit, 10, 64)
		if err != nil || n > max {
			return 0, 0, errorf(codeSSLInvalidParam, "The parameter `Limit` must be a number from 0 to %d, not `%s`.", max, *limit)
		}
		l = cmp.Or(n, def)
	}
	if offset != nil {
		n, err := numberParam("Offset", *offset)
		if err != nil {
			return 0, 0, err
		}
		o = n
	}
	return l, o, nil
}

// numberParam reads a parameter the SSL service takes as a string of digits.
func numberParam(name, value string) (uint64, error) {
	n, err := strconv.ParseUint(value, 10, 64)
	if err != nil {
		return 0, errorf(codeSSLInvalidParam, "The parameter `%s` must be a number, not `%s`.", name, value)
	}
	return n, nil
}
