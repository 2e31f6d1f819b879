package automation_test

import (
	"errors"
	"io"
	"mime"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/conecrm/gateway/ent/outboundmessage"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// smtpServer is a real SMTP server in the test process (emersion/go-smtp)
// requiring PLAIN authentication; it refuses the first message with a
// temporary error so that delivery has to retry.
type smtpServer struct {
	mu       sync.Mutex
	attempts int
	got      []*mail.Message
	from     []string
	to       []string
}

func (b *smtpServer) NewSession(*smtp.Conn) (smtp.Session, error) { return &smtpSession{b: b}, nil }

type smtpSession struct {
	b        *smtpServer
	authed   bool
	from, to string
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "crm" || pass != "s3cret" {
			return errors.New("invalid credentials")
		}
		s.authed = true
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = to
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	s.b.attempts++
	if s.b.attempts == 1 {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	m, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	s.b.got = append(s.b.got, m)
	s.b.from = append(s.b.from, s.from)
	s.b.to = append(s.b.to, s.to)
	return nil
}

func (s *smtpSession) Reset()        {}
func (s *smtpSession) Logout() error { return nil }

// With CONECRM_SMTP_URL, sendEmail delivers over SMTP (authenticated, with
// River's retries after a temporary refusal) and marks the stored message
// SENT; an SMS, which has no transport, stays in the development mailbox.
func TestSendEmailOverSMTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		backend := &smtpServer{}
		srv := smtp.NewServer(backend)
		srv.Domain = "localhost"
		srv.AllowInsecureAuth = true
		srv.ReadTimeout = 10 * time.Second
		srv.WriteTimeout = 10 * time.Second
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()

		cfg := testConfig()
		cfg.SMTPURL = "smtp://crm:s3cret@" + ln.Addr().String() + "?from=crm@demo-motors.test"
		e := start(t, db, &cfg)
		n, ed := chain(
			node("mail", "sendEmail", map[string]any{"to": "buyer@example.com", "subject": "Your offer — déjà prête", "body": "Hello!\nSee you soon."}),
			node("sms", "sendSms", map[string]any{"to": "+15145550100", "body": "Hi"}),
		)
		id := e.automation("Mail", "lead.created", nil, n, ed)
		e.createLead("Mailed", "DT")
		e.finished(id, 1)
		e.eventually("the email sent", 20*time.Second, func() bool {
			m, err := e.db.OutboundMessage.Query().Where(outboundmessage.ChannelEQ(outboundmessage.ChannelEMAIL)).Only(e.ctx)
			e.must(err)
			return m.Status == outboundmessage.StatusSENT && m.SentAt != nil
		})
		backend.mu.Lock()
		defer backend.mu.Unlock()
		if backend.attempts != 2 || len(backend.got) != 1 {
			t.Fatalf("%d attempts, %d messages accepted", backend.attempts, len(backend.got))
		}
		m := backend.got[0]
		body, _ := io.ReadAll(m.Body)
		subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
		e.must(err)
		if backend.from[0] != "crm@demo-motors.test" || backend.to[0] != "buyer@example.com" ||
			subject != "Your offer — déjà prête" || m.Header.Get("To") != "buyer@example.com" ||
			strings.TrimSpace(strings.ReplaceAll(string(body), "\r\n", "\n")) != "Hello!\nSee you soon." {
			t.Fatalf("received from %s to %s: %v %q", backend.from[0], backend.to[0], m.Header, body)
		}
		sms, err := e.db.OutboundMessage.Query().Where(outboundmessage.ChannelEQ(outboundmessage.ChannelSMS)).Only(e.ctx)
		e.must(err)
		if sms.Status != outboundmessage.StatusMAILBOX {
			t.Fatalf("sms status %s", sms.Status)
		}
	})
}
