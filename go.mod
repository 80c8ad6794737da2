module github.com/talkdeskgo/talkdesk

go 1.26.0

require (
	github.com/google/go-cmp v0.7.0
	golang.org/x/oauth2 v0.37.0
	golang.org/x/time v0.16.0
)
