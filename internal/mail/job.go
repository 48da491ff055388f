package mail

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/uptrace/bun"

	"cla/internal/jobs"
)

// SendArgs is the mail.send job: one message, built when the change was
// made. A domain whose mail must reflect the data when it goes out (a member
// disabled since, a meeting moved) enqueues its own job instead and sends
// from its worker.
type SendArgs struct {
	// MessageID makes the job unique: the same mail is queued once.
	MessageID string  `json:"message_id" river:"unique"`
	Message   Message `json:"message"`
}

// Kind names the job in River's table.
func (SendArgs) Kind() string { return "mail.send" }

// Enqueue queues m for sending in tx (see jobs.Enqueue), once per Message-ID
// (one is made when m has none). A malformed message is refused here, with
// the caller, rather than failing in the job.
func Enqueue(ctx context.Context, tx bun.IDB, m *Message) (*jobs.InsertResult, error) {
	msg := *m
	if msg.MessageID == "" {
		host := "cla"
		if msg.From.Email != "" {
			host = domainOf(msg.From.Email)
		}
		msg.MessageID = MessageID("m-"+rand.Text(), msg.To.Email, host)
	}
	// The sender's address may be left to the worker's configuration.
	if _, err := msg.build("check@example.org"); err != nil {
		return nil, err
	}
	res, err := jobs.Enqueue(ctx, tx, SendArgs{MessageID: msg.MessageID, Message: msg}, jobs.Unique())
	if err != nil {
		return nil, fmt.Errorf("mail: %w", err)
	}
	return res, nil
}

// Worker sends mail.send jobs with Sender. With no Sender (no SMTP
// configured) it completes them without sending: the platform works without
// mail, and what would have been sent stays in the job's args.
type Worker struct {
	jobs.WorkerDefaults[SendArgs]
	Sender Sender
}

// Work sends the message; a permanent refusal stops the job (internal/jobs).
func (w *Worker) Work(ctx context.Context, job *jobs.Job[SendArgs]) error {
	if w.Sender == nil {
		return nil
	}
	return w.Sender.Send(ctx, &job.Args.Message)
}

// Text sends the plain-text mails of code that knows only a recipient, a
// subject and a body — auth's invitation and password links — through a
// Sender. It satisfies auth.Mailer.
type Text struct {
	Sender   Sender
	FromName string
}

// Send sends body to to, synchronously.
func (t Text) Send(ctx context.Context, to, subject, body string) error {
	return t.Sender.Send(ctx, &Message{From: Address{Name: t.FromName}, To: Address{Email: to}, Subject: subject, Text: body})
}
