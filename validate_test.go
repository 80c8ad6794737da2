package talkdesk

import (
	"errors"
	"strings"
	"testing"
)

func TestAccountValidation(t *testing.T) {
	valid := []string{"acme", "a", "a-b", "Acme2", "9lives", strings.Repeat("x", 63)}
	invalidNames := []string{
		"", "evil.com/x", "a@b", "-x", "x-", "a.b", "a b", "a_b", "ünï", "a/", "a?b", "a#b",
		"a%2Fb", "a\r\nb", strings.Repeat("x", 64),
	}
	for _, a := range valid {
		if _, err := NewClient(WithClientCredentials(a, "id", "secret")); err != nil {
			t.Errorf("account %q: %v", a, err)
		}
		if _, err := AuthCodeConfig(a, RegionUS, "id", "secret", "https://app.example.com/cb"); err != nil {
			t.Errorf("AuthCodeConfig account %q: %v", a, err)
		}
	}
	for _, a := range invalidNames {
		if c, err := NewClient(WithClientCredentials(a, "id", "secret")); !errors.Is(err, ErrInvalid) || c != nil {
			t.Errorf("NewClient with account %q = %v, %v; want ErrInvalid", a, c, err)
		}
		if _, err := AuthCodeConfig(a, RegionUS, "id", "secret", "https://app.example.com/cb"); !errors.Is(err, ErrInvalid) {
			t.Errorf("AuthCodeConfig with account %q: %v, want ErrInvalid", a, err)
		}
	}
}

func TestCheckE164Accepts(t *testing.T) {
	for _, v := range []string{"+12", "+14155550100", "+351912345678", "+123456789012345"} {
		if err := checkE164("n", v); err != nil {
			t.Errorf("checkE164(%q) = %v, want nil", v, err)
		}
	}
}
