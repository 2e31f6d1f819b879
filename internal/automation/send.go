package automation

import (
	"context"
	"fmt"
	"mime"
	"net"
	"net/smtp"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/outboundmessage"
)

// Sender delivers an outbound message through a transport (SMTP for
// email). Without one, messages stay in the development mailbox.
type Sender interface {
	Send(ctx context.Context, m *ent.OutboundMessage) error
}

// smtpSender is CONECRM_SMTP_URL: smtp://user:password@host:port?from=addr
// (STARTTLS when the server offers it, PLAIN auth when a user is given).
type smtpSender struct {
	addr, host, from string
	auth             smtp.Auth
}

func newSMTPSender(raw string) (*smtpSender, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "smtp" || u.Host == "" {
		return nil, fmt.Errorf("CONECRM_SMTP_URL must look like smtp://user:password@host:587?from=crm@example.com")
	}
	s := &smtpSender{addr: u.Host, host: u.Hostname(), from: u.Query().Get("from")}
	if u.Port() == "" {
		s.addr = net.JoinHostPort(u.Hostname(), "25")
	}
	if s.from == "" {
		return nil, fmt.Errorf("CONECRM_SMTP_URL needs a from= address")
	}
	if u.User != nil {
		pw, _ := u.User.Password()
		s.auth = smtp.PlainAuth("", u.User.Username(), pw, s.host)
	}
	return s, nil
}

func (s *smtpSender) Send(_ context.Context, m *ent.OutboundMessage) error {
	clean := func(v string) string { return strings.NewReplacer("\r", " ", "\n", " ").Replace(v) }
	// Headers are ASCII: a non-ASCII subject is an RFC 2047 encoded word.
	msg := "From: " + clean(s.from) + "\r\nTo: " + clean(m.Recipient) +
		"\r\nSubject: " + mime.QEncoding.Encode("utf-8", clean(m.Subject)) +
		"\r\nDate: " + time.Now().Format(time.RFC1123Z) +
		"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + m.Body
	return smtp.SendMail(s.addr, s.auth, s.from, []string{m.Recipient}, []byte(msg))
}

// sendArgs is the delivery of one stored message.
type sendArgs struct {
	MessageID uuid.UUID `json:"messageId"`
}

func (sendArgs) Kind() string { return "automation.send" }

func (sendArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

type sendWorker struct {
	river.WorkerDefaults[sendArgs]
	rt *Runtime
}

func (w *sendWorker) Work(ctx context.Context, job *river.Job[sendArgs]) error {
	m, err := w.rt.db.OutboundMessage.Get(bypass(ctx), job.Args.MessageID)
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if m.Status != outboundmessage.StatusPENDING || w.rt.mailer == nil {
		return nil
	}
	actx := systemContext(ctx, m.TenantID, nil)
	if err := w.rt.mailer.Send(ctx, m); err != nil {
		if job.Attempt >= job.MaxAttempts {
			_ = w.rt.db.OutboundMessage.UpdateOne(m).SetStatus(outboundmessage.StatusFAILED).SetError(truncate(err.Error(), 1000)).Exec(actx)
		}
		return err
	}
	return w.rt.db.OutboundMessage.UpdateOne(m).SetStatus(outboundmessage.StatusSENT).SetSentAt(time.Now().UTC()).Exec(actx)
}
