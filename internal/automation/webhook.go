package automation

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/automationrunstep"
)

// Webhook request headers. The signature is HMAC-SHA256, keyed with the
// node's secret, over "<timestamp>.<body>"; receivers recompute it and
// refuse old timestamps (replays).
const (
	HeaderSignature = "X-Conecrm-Signature" // "sha256=<hex>"
	HeaderTimestamp = "X-Conecrm-Timestamp" // Unix seconds
	HeaderEventID   = "X-Conecrm-Event-Id"  // the same for every retry: receivers deduplicate on it
)

// Sign returns the signature header value of body sent at ts with secret.
func Sign(secret string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "%d.", ts)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// webhookArgs is one delivery of a webhook node's POST.
type webhookArgs struct {
	RunID    uuid.UUID `json:"runId"`
	NodeID   string    `json:"nodeId"`
	TenantID uuid.UUID `json:"tenantId"`
	// The secret is not in the job: the delivery reads it from the
	// automation (its write-only webhook secrets) when it signs.
	AutomationID uuid.UUID `json:"automationId"`
	URL          string    `json:"url"`
	Body         []byte    `json:"body"`
}

func (webhookArgs) Kind() string { return "automation.webhook" }

func (webhookArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

type webhookWorker struct {
	river.WorkerDefaults[webhookArgs]
	rt *Runtime
}

// errRefused is a destination the SSRF guard refuses: no retry helps.
var errRefused = errors.New("destination refused")

func (w *webhookWorker) Work(ctx context.Context, job *river.Job[webhookArgs]) error {
	a := job.Args
	auto, err := w.rt.db.Automation.Get(systemContext(ctx, a.TenantID, nil), a.AutomationID)
	if ent.IsNotFound(err) {
		w.rt.finishStep(ctx, a, "FAILED", "", "the automation was deleted before delivery")
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	res, err := w.rt.hooks.post(ctx, a.URL, auto.WebhookSecrets[a.NodeID], a.RunID.String()+"/"+a.NodeID, a.Body)
	status := res.status
	switch {
	case err == nil:
		w.rt.finishStep(ctx, a, "DONE", fmt.Sprintf("delivered to %s: HTTP %d (attempt %d)", a.URL, status, job.Attempt), "")
		return nil
	case errors.Is(err, errRefused):
		w.rt.finishStep(ctx, a, "FAILED", "", err.Error())
		return river.JobCancel(err)
	case job.Attempt >= job.MaxAttempts:
		w.rt.finishStep(ctx, a, "FAILED", "", fmt.Sprintf("gave up after %d attempts: %v", job.Attempt, err))
		return err
	default:
		w.rt.finishStep(ctx, a, "WAITING", "", fmt.Sprintf("attempt %d: %v (will retry)", job.Attempt, err))
		return err
	}
}

// finishStep updates the webhook's step of the run with a delivery outcome.
func (rt *Runtime) finishStep(ctx context.Context, a webhookArgs, status, detail, errText string) {
	actx := systemContext(ctx, a.TenantID, nil)
	upd := rt.db.AutomationRunStep.Update().
		Where(automationrunstep.RunID(a.RunID), automationrunstep.NodeID(a.NodeID)).
		SetStatus(automationrunstep.Status(status)).SetError(truncate(errText, 2000))
	if detail != "" {
		upd.SetDetail(truncate(detail, 2000))
	}
	if err := upd.Exec(actx); err != nil {
		rt.log.ErrorContext(ctx, "cannot record a webhook outcome", "run", a.RunID, "node", a.NodeID, "err", err)
	}
}

// webhookClient posts webhooks through the SSRF guard.
type webhookClient struct {
	allow   allowList
	client  *http.Client
	timeout time.Duration
}

func newWebhookClient(allow allowList, timeout time.Duration) *webhookClient {
	c := &webhookClient{allow: allow, timeout: timeout}
	dialer := &net.Dialer{Timeout: timeout, Control: c.control}
	c.client = &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:           dialer.DialContext,
			Proxy:                 nil, // a proxy would hide the real destination from the guard
			TLSHandshakeTimeout:   timeout,
			ResponseHeaderTimeout: timeout,
			MaxIdleConnsPerHost:   4,
		},
		// A redirect is not followed: it could lead anywhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c
}

// response is what a receiver answered: its status (0 when none came)
// and the start of its body.
type response struct {
	status  int
	snippet string
}

// snippetLen bounds the part of a receiver's answer that is kept.
const snippetLen = 1024

// post sends body to rawURL, signed; a 2xx answer is success.
func (c *webhookClient) post(ctx context.Context, rawURL, secret, eventID string, body []byte) (response, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return response{}, fmt.Errorf("%w: %q is not an http(s) URL", errRefused, rawURL)
	}
	if err := c.checkHost(u.Hostname()); err != nil {
		return response{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return response{}, fmt.Errorf("%w: %v", errRefused, err)
	}
	ts := time.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "ConeCRM-Webhook/1")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(secret, ts, body))
	req.Header.Set(HeaderEventID, eventID)
	res, err := c.client.Do(req)
	if err != nil {
		var re *refusedError
		if errors.As(err, &re) {
			return response{}, fmt.Errorf("%w: %s", errRefused, re.msg)
		}
		return response{}, err
	}
	defer res.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(res.Body, snippetLen))
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	out := response{status: res.StatusCode, snippet: strings.ToValidUTF8(string(head), "")}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return out, fmt.Errorf("HTTP %d", res.StatusCode)
	}
	return out, nil
}

// checkHost refuses a literal address outside the allowed ones before any
// connection (names are checked when connecting, on the resolved address).
func (c *webhookClient) checkHost(host string) error {
	if c.allow.hostAllowed(host) {
		return nil
	}
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil && !c.allow.addrAllowed(ip) {
		return fmt.Errorf("%w: %s is a %s address (allow it with CONECRM_OUTBOUND_ALLOW)", errRefused, ip, addrKind(ip))
	}
	return nil
}

type refusedError struct{ msg string }

func (e *refusedError) Error() string { return e.msg }

// control runs for every connection, after name resolution: the address
// actually dialled is checked, so DNS cannot smuggle in an internal one.
func (c *webhookClient) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &refusedError{"unparsable address " + address}
	}
	ip := ap.Addr().Unmap()
	if !c.allow.addrAllowed(ip) {
		return &refusedError{fmt.Sprintf("%s is a %s address (allow it with CONECRM_OUTBOUND_ALLOW)", ip, addrKind(ip))}
	}
	return nil
}

// allowList is CONECRM_OUTBOUND_ALLOW: CIDRs and host names that may be
// reached although internal.
type allowList struct {
	prefixes []netip.Prefix
	hosts    map[string]bool
}

func parseAllow(s string) (allowList, error) {
	a := allowList{hosts: map[string]bool{}}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if strings.Contains(item, "/") {
			p, err := netip.ParsePrefix(item)
			if err != nil {
				return a, fmt.Errorf("CONECRM_OUTBOUND_ALLOW: %q is not a CIDR", item)
			}
			a.prefixes = append(a.prefixes, p.Masked())
			continue
		}
		if ip, err := netip.ParseAddr(item); err == nil {
			a.prefixes = append(a.prefixes, netip.PrefixFrom(ip, ip.BitLen()))
			continue
		}
		a.hosts[strings.ToLower(item)] = true
	}
	return a, nil
}

func (a allowList) hostAllowed(host string) bool { return a.hosts[strings.ToLower(host)] }

func (a allowList) addrAllowed(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range a.prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return addrKind(ip) == ""
}

var (
	cgnat    = netip.MustParsePrefix("100.64.0.0/10")
	metadata = []netip.Addr{netip.MustParseAddr("169.254.169.254"), netip.MustParseAddr("fd00:ec2::254")}
)

// addrKind names why ip is internal, or "" for a public address.
func addrKind(ip netip.Addr) string {
	switch {
	case slicesContains(metadata, ip):
		return "cloud metadata"
	case ip.IsLoopback():
		return "loopback"
	case ip.IsPrivate(), cgnat.Contains(ip):
		return "private"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "link-local"
	case ip.IsUnspecified(), ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return "non-unicast"
	}
	return ""
}

func slicesContains(list []netip.Addr, ip netip.Addr) bool {
	for _, x := range list {
		if x == ip {
			return true
		}
	}
	return false
}
