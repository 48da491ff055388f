package outbound

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"syscall"

	"cla/internal/apperr"
)

// Describe returns a short French account of why a call failed, for delivery
// logs and dry-run pages that facilitators read. It never repeats the error's
// own text, which may name internal addresses or library details.
func Describe(err error) string {
	var (
		ae   *apperr.Error
		dns  *net.DNSError
		ne   net.Error
		cve  *tls.CertificateVerificationError
		uae  x509.UnknownAuthorityError
		hne  x509.HostnameError
		cie  x509.CertificateInvalidError
		rhe  tls.RecordHeaderError
		alrt tls.AlertError
	)
	switch {
	case err == nil:
		return ""
	case errors.As(err, &ae):
		return apperr.MessageOf(err)
	case errors.Is(err, ErrBlocked):
		return "Adresse refusée : ce nom pointe vers un réseau privé ou une plage réservée."
	case errors.As(err, &dns):
		if dns.IsNotFound {
			return "Nom de domaine introuvable."
		}
		return "Le nom de domaine n'a pas pu être résolu."
	case errors.As(err, &cve), errors.As(err, &uae), errors.As(err, &hne), errors.As(err, &cie):
		return "Connexion chiffrée refusée : le certificat du serveur n'est pas valide pour cette adresse."
	case errors.As(err, &rhe), errors.As(err, &alrt):
		return "Connexion chiffrée impossible : le serveur ne parle pas https correctement."
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "Délai dépassé : le serveur n'a pas répondu à temps."
	case errors.Is(err, context.Canceled):
		return "Appel interrompu avant sa fin."
	case errors.Is(err, syscall.ECONNREFUSED):
		return "Connexion refusée par le serveur."
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "Connexion interrompue par le serveur."
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return "Serveur injoignable depuis la plateforme."
	}
	return "Échec de l'appel au serveur."
}
