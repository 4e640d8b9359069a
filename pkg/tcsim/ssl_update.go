package tcsim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// UpdateCertificateInstance, the SSL service's "one-click update" (docs/tencentcloud-api.md §2):
// every resource of the given types (and regions) that holds the old certificate gets the new
// one, asynchronously. The first call with a set of arguments answers DeployRecordId 0 (the
// record is being created: call again); the next creates the record. A record has one detail
// per resource, each pending, then deploying, then success or failed: each step takes
// Options.ProductTaskDelay, or with 0 one DescribeHostUpdateRecordDetail call. A call while a
// record of the same old certificate runs answers that record with DeployStatus 0 if the
// arguments are the same, CertificateDeployHasPendingRecord if not.

const (
	codeDeployHasPending        = "FailedOperation.CertificateDeployHasPendingRecord"
	codeDeployInstanceEmpty     = "FailedOperation.CertificateDeployInstanceEmpty"
	codeHostResourceTypeInvalid = "FailedOperation.CertificateHostResourceTypeInvalid"
	codeDeployNotExist          = "FailedOperation.CertificateDeployNotExist"
	codeRetryStatusInvalid      = "FailedOperation.CertificateDeployRetryStatusInvalid"
	codeRollbackStatusInvalid   = "FailedOperation.CertificateDeployRollbackStatusInvalid"
	codeWithDetailReason        = "InvalidParameter.WithDetailReason"
	recordDetailDefaultLimit    = 10
	recordDetailMaxLimit        = 200
)

// Detail states of DescribeHostUpdateRecordDetail.
const (
	detailPending        = 0
	detailSuccess        = 1
	detailFailed         = 2
	detailDeploying      = 3
	detailRolledBack     = 4
	detailRollbackFailed = 5
)

// Progress states of UpdateSyncProgress.
const progressRunning = 3

// updateRecord is one deploy record of UpdateCertificateInstance or of a rollback.
type updateRecord struct {
	ID                uint64
	CertID, OldCertID string
	Types             []string
	key               string
	details           []*updateDetail
}

func (r *updateRecord) running() bool {
	return slices.ContainsFunc(r.details, (*updateDetail).active)
}

// updateDetail is one resource of a record.
type updateDetail struct {
	ID               uint64
	Status           uint64
	ErrorMsg         string
	Created, Updated time.Time
	// stepAt is when the current state began.
	stepAt time.Time
	at     place
	// origin is the detail a rollback detail reverses; nil otherwise.
	origin *updateDetail
	// Listed fields, fixed when the record is created.
	Type, Region, InstanceID, InstanceName string
	Domains                                []string
	ListenerID, ListenerName, Protocol     string
	SNI                                    bool
	Port                                   int
}

func (d *updateDetail) active() bool { return d.Status == detailPending || d.Status == detailDeploying }

// place is what a detail moves: a resource of another product, or a CLB listener (domain "")
// or SNI domain.
type place struct {
	res                      *resource
	lbID, listenerID, domain string
}

// target is a CLB place in the target syntax of clbcert's config.
func (p place) target() string {
	if p.domain == "" {
		return p.lbID + "/" + p.listenerID
	}
	return p.lbID + "/" + p.listenerID + "/" + p.domain
}

// placeCertsLocked is what p serves: a resource's certificate, or every server certificate
// of a CLB binding (an RSA and an ECC one may share it); nil where p is gone.
func (c *cloud) placeCertsLocked(p place) *[]string {
	if p.res != nil {
		return &[]string{p.res.CertID}
	}
	_, l := c.findLocked(p.lbID, p.listenerID)
	switch {
	case l == nil:
		return nil
	case p.domain == "":
		return &l.Cert.CertIDs
	}
	for _, r := range l.Rules {
		if r.Domain == p.domain {
			return &r.Cert.CertIDs
		}
	}
	return nil
}

// swapPlaceCertLocked makes p serve newID where it served oldID; a CLB binding keeps its
// other members, its mode, CA and client verification, as the SSL service's update does.
func (c *cloud) swapPlaceCertLocked(p place, oldID, newID string) {
	if p.res != nil {
		p.res.CertID = newID
		return
	}
	if ids := c.placeCertsLocked(p); ids != nil {
		if i := slices.Index(*ids, oldID); i >= 0 {
			(*ids)[i] = newID
		}
	}
}

type resourceTypeRegions struct {
	ResourceType *string `tc:"required"`
	Regions      []*string
}

type updateCertificateInstanceParams struct {
	OldCertificateID           *string `json:"OldCertificateId" tc:"required"`
	CertificateID              *string `json:"CertificateId"`
	ResourceTypesRegions       []resourceTypeRegions
	ExpiringNotificationSwitch *uint64
	Tags                       []sslTag
	ProjectID                  *uint64 `json:"ProjectId"`

	ResourceTypes, Regions []*string

	CertificatePublicKey, CertificatePrivateKey *string

	Repeatable, AllowDownload *bool
}

type updateSyncProgressRegion struct {
	Region string

	TotalCount, OffsetCount, Status int64
}

type updateSyncProgress struct {
	ResourceType              string
	UpdateSyncProgressRegions []updateSyncProgressRegion
	Status                    int64
}

type updateCertificateInstanceResponse struct {
	DeployRecordID     uint64 `json:"DeployRecordId"`
	DeployStatus       int64
	UpdateSyncProgress []updateSyncProgress
}

type hostUpdateRecordDetailParams struct {
	DeployRecordID *string `json:"DeployRecordId" tc:"required"`

	Limit, Offset *string
}

type updateRecordDetail struct {
	ID         uint64 `json:"Id"`
	CertID     string `json:"CertId"`
	OldCertID  string `json:"OldCertId"`
	Domains    []string
	Status     uint64
	InstanceID string  `json:"InstanceId"`
	ListenerID string  `json:"ListenerId"`
	SniSwitch  *uint64 `json:"SniSwitch,omitempty"`
	Port       *int64  `json:"Port,omitempty"`

	ResourceType, Region, ErrorMsg, CreateTime, UpdateTime, InstanceName, ListenerName, Protocol, Bucket string

	EnvID string `json:"EnvId"`

	Namespace, SecretName, TCBType string
}

type updateRecordDetails struct {
	ResourceType string
	List         []updateRecordDetail
	TotalCount   int64
}

type hostUpdateRecordDetailResponse struct {
	RecordDetailList []updateRecordDetails

	TotalCount, SuccessTotalCount, FailedTotalCount, RunningTotalCount, PendingTotalCount int64
}

type recordRetryParams struct {
	DeployRecordID       *int64 `json:"DeployRecordId"`
	DeployRecordDetailID *int64 `json:"DeployRecordDetailId"`
}

type recordRollbackParams struct {
	DeployRecordID *int64 `json:"DeployRecordId" tc:"required"`
}

type recordRollbackResponse struct {
	DeployRecordID int64 `json:"DeployRecordId"`
}

// updateArgs are UpdateCertificateInstance's checked arguments.
type updateArgs struct {
	old, newID string
	// pub and key are the PEMs of a new certificate given inline (newID "").
	pub, key string
	types    []string
	regions  map[string][]string
	mute     bool
}

// id identifies the arguments, for "call again with the same arguments".
func (a updateArgs) id() string {
	newPart := a.newID
	if newPart == "" {
		sum := sha256.Sum256([]byte(a.pub))
		newPart = "pem:" + hex.EncodeToString(sum[:])
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s>%s|%s", a.old, newPart, strings.Join(a.types, ","))
	for _, t := range a.types {
		if rs := a.regions[t]; len(rs) > 0 {
			fmt.Fprintf(&b, "|%s=%s", t, strings.Join(rs, ","))
		}
	}
	return b.String()
}

func checkUpdateArgs(p *updateCertificateInstanceParams) (updateArgs, error) {
	a := updateArgs{old: *p.OldCertificateID, regions: map[string][]string{}}
	if len(p.ResourceTypes) == 0 {
		return a, errorf(codeMissingParameter, "The request is missing a required parameter `ResourceTypes`.")
	}
	for _, t := range p.ResourceTypes {
		if t == nil || !updatableType(*t) {
			return a, errorf(codeHostResourceTypeInvalid, "The resource type `%s` is not supported.", deref(t))
		}
		if !slices.Contains(a.types, *t) {
			a.types = append(a.types, *t)
		}
	}
	slices.Sort(a.types)
	for _, tr := range p.ResourceTypesRegions {
		t := *tr.ResourceType
		switch {
		case !slices.Contains(a.types, t):
			return a, errorf(codeWithDetailReason, "ResourceTypesRegions names `%s`, which is not in ResourceTypes.", t)
		case !regionalType(t):
			return a, errorf(codeWithDetailReason, "The resource type `%s` has no regions.", t)
		case len(tr.Regions) == 0:
			return a, errorf(codeWithDetailReason, "ResourceTypesRegions gives no regions for `%s`.", t)
		}
		for _, r := range tr.Regions {
			if r == nil || !knownRegion(*r) {
				return a, errorf(codeWithDetailReason, "The region `%s` of `%s` does not exist.", deref(r), t)
			}
			if !slices.Contains(a.regions[t], *r) {
				a.regions[t] = append(a.regions[t], *r)
			}
		}
		slices.Sort(a.regions[t])
	}
	for _, t := range a.types {
		if regionalType(t) && len(a.regions[t]) == 0 {
			return a, errorf(codeWithDetailReason, "The resource type `%s` needs its regions in ResourceTypesRegions.", t)
		}
	}
	if p.ExpiringNotificationSwitch != nil {
		switch *p.ExpiringNotificationSwitch {
		case 0:
		case 1:
			a.mute = true
		default:
			return a, errorf(codeSSLInvalidParam, "The parameter `ExpiringNotificationSwitch` must be 0 or 1.")
		}
	}
	inline := p.CertificatePublicKey != nil || p.CertificatePrivateKey != nil
	switch {
	case p.CertificateID != nil && inline:
		return a, errorf(codeWithDetailReason, "Give either CertificateId or CertificatePublicKey and CertificatePrivateKey, not both.")
	case p.CertificateID != nil:
		a.newID = *p.CertificateID
	case !inline:
		return a, errorf(codeMissingParameter, "The request is missing a required parameter `CertificateId` (or CertificatePublicKey and CertificatePrivateKey).")
	case p.CertificatePublicKey == nil:
		return a, errorf(codeMissingParameter, "The request is missing a required parameter `CertificatePublicKey`.")
	case p.CertificatePrivateKey == nil:
		return a, errorf(codeMissingParameter, "The request is missing a required parameter `CertificatePrivateKey`.")
	default:
		a.pub, a.key = *p.CertificatePublicKey, *p.CertificatePrivateKey
	}
	return a, nil
}

func (c *cloud) updateCertificateInstance(_ context.Context, r *request, p *updateCertificateInstanceParams) (any, error) {
	a, err := checkUpdateArgs(p)
	if err != nil {
		return nil, err
	}
	var inline *sslCert
	if a.newID == "" {
		if inline, err = parseCert(a.pub, a.key, certTypeServer, r.Now, true); err != nil {
			return nil, err
		}
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleLocked(r.Now)
	if c.prod.roleMissing {
		return nil, errorf(codeRoleNotAuthorised, "The service role %s is not authorised; the SSL service cannot update cloud resources.", roleName)
	}
	if c.certs[a.old] == nil {
		return nil, errorf(codeCertNotFound, "The certificate `%s` does not exist.", a.old)
	}
	if a.newID != "" {
		cert := c.certs[a.newID]
		switch {
		case cert == nil:
			return nil, errorf(codeCertNotFound, "The certificate `%s` does not exist.", a.newID)
		case cert.Type != certTypeServer:
			return nil, errorf(codeCertInvalid, "The certificate `%s` is a CA certificate and cannot be deployed.", a.newID)
		case cert.expired(r.Now):
			return nil, errorf(codeCertInvalid, "The certificate `%s` expired at %s.", a.newID, sslTime(cert.leaf().NotAfter))
		case a.newID == a.old:
			return nil, errorf(codeSSLInvalidParam, "The new certificate is the old certificate `%s`.", a.old)
		}
	}
	key := a.id()
	for _, rec := range c.prod.records {
		if rec.OldCertID != a.old || !rec.running() {
			continue
		}
		if rec.key == key {
			return updateCertificateInstanceResponse{DeployRecordID: rec.ID, DeployStatus: 0, UpdateSyncProgress: []updateSyncProgress{}}, nil
		}
		return nil, errorf(codeDeployHasPending, "The certificate `%s` has a deploy record (%d) that has not ended.", a.old, rec.ID)
	}
	places := c.placesLocked(a)
	if len(places) == 0 {
		return nil, errorf(codeDeployInstanceEmpty, "No resource of the types %s holds the certificate `%s`.", strings.Join(a.types, ", "), a.old)
	}
	if !c.prod.creating[key] {
		c.prod.creating[key] = true
		progress := []updateSyncProgress{}
		for _, t := range a.types {
			progress = append(progress, updateSyncProgress{ResourceType: t, UpdateSyncProgressRegions: []updateSyncProgressRegion{}, Status: progressRunning})
		}
		// UNCERTAIN: the DeployStatus of an answer with DeployRecordId 0 is not documented.
		return updateCertificateInstanceResponse{DeployRecordID: 0, DeployStatus: 0, UpdateSyncProgress: progress}, nil
	}
	delete(c.prod.creating, key)
	newID := a.newID
	if inline != nil {
		c.addCertLocked(inline, "", r.Now, true)
		newID = inline.ID
	}
	if a.mute {
		c.prod.muted[a.old] = true
	}
	rec := c.newRecordLocked(newID, a.old, a.types, key)
	for _, pl := range places {
		rec.details = append(rec.details, c.newDetailLocked(pl, r.Now))
	}
	return updateCertificateInstanceResponse{DeployRecordID: rec.ID, DeployStatus: 1, UpdateSyncProgress: []updateSyncProgress{}}, nil
}

func (c *cloud) newRecordLocked(certID, oldCertID string, types []string, key string) *updateRecord {
	c.prod.recordSeq++
	rec := &updateRecord{ID: c.prod.recordSeq, CertID: certID, OldCertID: oldCertID, Types: types, key: key}
	c.prod.records[rec.ID] = rec
	return rec
}

// newDetailLocked is a pending detail for pl, with what DescribeHostUpdateRecordDetail lists.
func (c *cloud) newDetailLocked(pl place, now time.Time) *updateDetail {
	c.prod.detailSeq++
	d := &updateDetail{ID: c.prod.detailSeq, Status: detailPending, Created: now, Updated: now, stepAt: now, at: pl}
	if res := pl.res; res != nil {
		d.Type, d.Region, d.InstanceID, d.InstanceName, d.Domains = res.Type, res.Region, res.InstanceID, res.InstanceName, slices.Clone(res.Domains)
		return d
	}
	d.Type, d.InstanceID, d.ListenerID = resCLB, pl.lbID, pl.listenerID
	lb, l := c.findLocked(pl.lbID, pl.listenerID)
	if l != nil {
		d.Region, d.InstanceName = lb.Region, lb.Name
		d.ListenerName, d.Protocol, d.SNI, d.Port = l.Name, l.Protocol, l.SNI, l.Port
	}
	if pl.domain != "" {
		d.Domains = []string{pl.domain}
	}
	return d
}

// placesLocked are the resources of a's types and regions that hold the old certificate.
func (c *cloud) placesLocked(a updateArgs) []place {
	var out []place
	if slices.Contains(a.types, resCLB) {
		for _, pl := range c.clbPlacesLocked(a.old) {
			if lb, _ := c.findLocked(pl.lbID, pl.listenerID); slices.Contains(a.regions[resCLB], lb.Region) {
				out = append(out, pl)
			}
		}
	}
	for _, res := range c.prod.resources {
		if res.CertID != a.old || !slices.Contains(a.types, res.Type) {
			continue
		}
		if regionalType(res.Type) && !slices.Contains(a.regions[res.Type], res.Region) {
			continue
		}
		out = append(out, place{res: res})
	}
	return out
}

// settleProductsLocked moves the bind-resource tasks and the update details along to now,
// when each step takes Options.ProductTaskDelay (with 0 they move when asked about); part of
// settleLocked.
func (c *cloud) settleProductsLocked(now time.Time) {
	delay := c.prod.delay
	if delay == 0 {
		return
	}
	for _, t := range c.prod.bindTasks {
		if due := t.Created.Add(delay); !t.done && !now.Before(due) {
			c.completeBindTaskLocked(t, due)
		}
	}
	for _, id := range c.recordIDsLocked() {
		rec := c.prod.records[id]
		for _, d := range rec.details {
			for d.active() && !now.Before(d.stepAt.Add(delay)) {
				c.stepDetailLocked(rec, d, d.stepAt.Add(delay))
			}
		}
	}
}

// recordIDsLocked are the record ids in creation order, so that details of several records
// apply in the order they were asked for.
func (c *cloud) recordIDsLocked() []uint64 {
	ids := make([]uint64, 0, len(c.prod.records))
	for id := range c.prod.records {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// stepDetailLocked moves d one state on: pending to deploying, deploying to its end.
func (c *cloud) stepDetailLocked(rec *updateRecord, d *updateDetail, at time.Time) {
	d.stepAt, d.Updated = at, at
	if d.Status == detailPending {
		d.Status = detailDeploying
		return
	}
	var cur []string
	if ids := c.placeCertsLocked(d.at); ids != nil {
		cur = *ids
	}
	var failure string
	switch res := d.at.res; {
	case res != nil && res.fault != FaultNone:
		failure = fmt.Sprintf("tcsim: injected failure of %s %s (fault %q)", res.Type, res.name(), res.fault)
		if res.fault == FaultOnce {
			res.fault = FaultNone
		}
	case c.certs[rec.CertID] == nil:
		failure = fmt.Sprintf("the certificate %s no longer exists", rec.CertID)
	case !slices.Contains(cur, rec.OldCertID) && !slices.Contains(cur, rec.CertID):
		failure = fmt.Sprintf("the resource holds the certificate %q now, not %s", strings.Join(cur, ","), rec.OldCertID)
	case slices.Contains(cur, rec.OldCertID):
		failure = c.pairConflictLocked(cur, rec.OldCertID, rec.CertID)
	}
	if failure == "" {
		c.swapPlaceCertLocked(d.at, rec.OldCertID, rec.CertID)
		d.Status, d.ErrorMsg = detailSuccess, ""
	} else {
		d.Status, d.ErrorMsg = detailFailed, failure
	}
	if o := d.origin; o != nil {
		o.Updated = at
		o.Status = detailRolledBack
		if d.Status == detailFailed {
			o.Status = detailRollbackFailed
		}
	}
}

// pairConflictLocked is why CLB would refuse the binding ids with oldID replaced by newID:
// another member is newID or has its key algorithm (CLB pairs one RSA and one ECC
// certificate); "" if it would not.
func (c *cloud) pairConflictLocked(ids []string, oldID, newID string) string {
	alg := encryptAlgorithm(c.certs[newID])
	for _, id := range ids {
		switch other := c.certs[id]; {
		case id == oldID:
		case id == newID:
			return fmt.Sprintf("the listener binds the certificate %s already, beside %s", newID, oldID)
		case other != nil && encryptAlgorithm(other) == alg:
			return fmt.Sprintf("the listener binds %s beside %s, and %s is %s too: CLB pairs one RSA and one ECC certificate", id, oldID, newID, alg)
		}
	}
	return ""
}

func (c *cloud) recordLocked(id uint64) (*updateRecord, error) {
	rec := c.prod.records[id]
	if rec == nil {
		return nil, errorf(codeDeployNotExist, "The deploy record `%d` does not exist.", id)
	}
	return rec, nil
}

func (c *cloud) hostUpdateRecordDetail(_ context.Context, r *request, p *hostUpdateRecordDetailParams) (any, error) {
	id, err := numberParam("DeployRecordId", *p.DeployRecordID)
	if err != nil {
		return nil, err
	}
	limit, offset, err := pagingParams(p.Limit, p.Offset, recordDetailDefaultLimit, recordDetailMaxLimit)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleLocked(r.Now)
	rec, err := c.recordLocked(id)
	if err != nil {
		return nil, err
	}
	if c.prod.delay == 0 {
		for _, d := range rec.details {
			if d.active() {
				c.stepDetailLocked(rec, d, r.Now)
			}
		}
	}
	resp := hostUpdateRecordDetailResponse{TotalCount: int64(len(rec.details)), RecordDetailList: []updateRecordDetails{}}
	byType := map[string][]*updateDetail{}
	var types []string
	for _, d := range rec.details {
		switch d.Status {
		case detailSuccess:
			resp.SuccessTotalCount++
		case detailFailed:
			resp.FailedTotalCount++
		case detailDeploying:
			resp.RunningTotalCount++
		case detailPending:
			resp.PendingTotalCount++
		}
		if byType[d.Type] == nil {
			types = append(types, d.Type)
		}
		byType[d.Type] = append(byType[d.Type], d)
	}
	// UNCERTAIN: whether Offset and Limit page each type's list or all details; tcsim pages
	// each type's, as DescribeCertificateBindResourceTaskDetail documents for its lists.
	for _, t := range types {
		group := updateRecordDetails{ResourceType: t, TotalCount: int64(len(byType[t])), List: []updateRecordDetail{}}
		for _, d := range page(byType[t], offset, limit) {
			group.List = append(group.List, detailOut(rec, d))
		}
		resp.RecordDetailList = append(resp.RecordDetailList, group)
	}
	return resp, nil
}

func detailOut(rec *updateRecord, d *updateDetail) updateRecordDetail {
	out := updateRecordDetail{
		ID: d.ID, CertID: rec.CertID, OldCertID: rec.OldCertID, Domains: append([]string{}, d.Domains...),
		ResourceType: d.Type, Region: d.Region, Status: d.Status, ErrorMsg: d.ErrorMsg,
		CreateTime: sslTime(d.Created), UpdateTime: sslTime(d.Updated), InstanceID: d.InstanceID, InstanceName: d.InstanceName,
	}
	switch d.Type {
	case resCLB:
		out.ListenerID, out.ListenerName, out.Protocol = d.ListenerID, d.ListenerName, d.Protocol
		sni, port := uint64(0), int64(d.Port)
		if d.SNI {
			sni = 1
		}
		out.SniSwitch, out.Port = &sni, &port
	case resCOS:
		out.Bucket = d.InstanceID
	case resTKE:
		out.Namespace, out.SecretName = d.at.res.Namespace, d.at.res.Secret
	case resGAAP:
		out.ListenerID = d.at.res.Listener
	case resTCB:
		out.EnvID, out.TCBType = d.InstanceID, d.at.res.Service
	}
	return out
}

func (c *cloud) updateCertificateRecordRetry(_ context.Context, r *request, p *recordRetryParams) (any, error) {
	if p.DeployRecordID == nil && p.DeployRecordDetailID == nil {
		return nil, errorf(codeMissingParameter, "The request is missing a required parameter `DeployRecordId` (or `DeployRecordDetailId`).")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleLocked(r.Now)
	var rec *updateRecord
	var only *updateDetail
	if p.DeployRecordID != nil {
		var err error
		if rec, err = c.recordLocked(uint64(max(*p.DeployRecordID, 0))); err != nil {
			return nil, err
		}
	}
	if p.DeployRecordDetailID != nil {
		for _, id := range c.recordIDsLocked() {
			cand := c.prod.records[id]
			for _, d := range cand.details {
				if int64(d.ID) == *p.DeployRecordDetailID && (rec == nil || rec == cand) {
					rec, only = cand, d
				}
			}
		}
		if only == nil {
			return nil, errorf(codeDeployNotExist, "The deploy record detail `%d` does not exist.", *p.DeployRecordDetailID)
		}
	}
	if rec.running() {
		return nil, errorf(codeDeployHasPending, "The deploy record `%d` has not ended.", rec.ID)
	}
	var retry []*updateDetail
	for _, d := range rec.details {
		if d.Status == detailFailed && (only == nil || d == only) {
			retry = append(retry, d)
		}
	}
	if len(retry) == 0 {
		return nil, errorf(codeRetryStatusInvalid, "The deploy record `%d` has no failed detail to retry.", rec.ID)
	}
	for _, d := range retry {
		d.Status, d.ErrorMsg, d.stepAt, d.Updated = detailPending, "", r.Now, r.Now
		if d.origin != nil {
			d.origin.Status = detailSuccess
		}
	}
	return struct{}{}, nil
}

func (c *cloud) updateCertificateRecordRollback(_ context.Context, r *request, p *recordRollbackParams) (any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleLocked(r.Now)
	rec, err := c.recordLocked(uint64(max(*p.DeployRecordID, 0)))
	if err != nil {
		return nil, err
	}
	if rec.running() {
		return nil, errorf(codeDeployHasPending, "The deploy record `%d` has not ended.", rec.ID)
	}
	var done []*updateDetail
	for _, d := range rec.details {
		if d.Status == detailSuccess {
			done = append(done, d)
		}
	}
	if len(done) == 0 {
		return nil, errorf(codeRollbackStatusInvalid, "The deploy record `%d` has no successful detail to roll back.", rec.ID)
	}
	back := c.newRecordLocked(rec.OldCertID, rec.CertID, rec.Types, "rollback of "+strconv.FormatUint(rec.ID, 10))
	for _, d := range done {
		nd := c.newDetailLocked(d.at, r.Now)
		nd.origin = d
		back.details = append(back.details, nd)
	}
	return recordRollbackResponse{DeployRecordID: int64(back.ID)}, nil
}

// registerSSLProducts adds the SSL service's actions over the other products.
func (c *cloud) registerSSLProducts(rt *routes) {
	rt.addAll(sslService, sslVersion, map[string]handler{
		"CreateCertificateBindResourceSyncTask":     typed(c.createBindTask),
		"DescribeCertificateBindResourceTaskResult": typed(c.bindTaskResult),
		"DescribeCertificateBindResourceTaskDetail": typed(c.bindTaskDetail),
		"UpdateCertificateInstance":                 typed(c.updateCertificateInstance),
		"DescribeHostUpdateRecordDetail":            typed(c.hostUpdateRecordDetail),
		"UpdateCertificateRecordRetry":              typed(c.updateCertificateRecordRetry),
		"UpdateCertificateRecordRollback":           typed(c.updateCertificateRecordRollback),
	})
}
