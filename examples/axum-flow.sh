#!/bin/bash
# The login / CSRF / flash / logout / idle-expiry flow of examples/axum.rs,
# with curl:
#
#   PORT=3457 IDLE_SECS=6 cargo run --example axum --features axum &
#   bash examples/axum-flow.sh 70     # seconds to wait for the idle expiry
#
# (6 s of idle time and the sealer's default 60 s of leeway for clocks apart),
# with a cookie jar kept here the way a browser keeps one (curl's own jar,
# 7.88 at least, keeps a cookie whose removal is not the last Set-Cookie of
# its response: the logout's CSRF cookie removal, before the session's).
B=http://localhost:${PORT:-3457}
J=$(mktemp -d)
cookies() { (cd $J && for n in *; do [ -f "$n" ] && printf '%s=%s; ' "$n" "$(cat "$n")"; done) | sed 's/; $//'; }
c() {
  curl -s -i -H "Cookie: $(cookies)" "$@" | tr -d '\r' > $J.resp
  grep -i '^set-cookie:' $J.resp | while read -r _ pair rest; do
    name=${pair%%=*}; value=${pair#*=}; value=${value%;}
    if echo "$rest" | grep -qi 'max-age=0'; then rm -f "$J/$name"; else printf '%s' "$value" > "$J/$name"; fi
  done
  grep -vi '^date:\|^content-length:' $J.resp; echo
}
token() { sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' $J.resp; }
echo '## 1. GET /login: the form with its CSRF token, and the CSRF cookie'
c $B/login; TOKEN=$(token)
echo '## 2. POST /login without the token'
c -d "username=ada" $B/login
echo '## 3. POST /login with the token, from another site'
c -H "Origin: https://evil.example" -d "username=ada&csrf_token=$TOKEN" $B/login
echo '## 4. POST /login with the token'
c -d "username=ada&csrf_token=$TOKEN" $B/login
echo '## 5. GET /whoami (after the redirect): the flash, and the logout form'
c $B/whoami; TOKEN2=$(token)
echo '## 6. GET /whoami again: the flash is gone'
c $B/whoami
echo '## 7. POST /logout with the token of the login form (retired at login)'
c -d "csrf_token=$TOKEN" $B/logout
echo '## 8. POST /logout with the token of /whoami'
c -d "csrf_token=$TOKEN2" $B/logout
echo '## 9. GET / (after the redirect): the "logged out" flash'
c $B/
echo '## 10. idle expiry: log in again, then nothing for longer than IDLE_SECS'
c $B/login > /dev/null; TOKEN=$(token)
c -d "username=bob&csrf_token=$TOKEN" $B/login | head -1
c $B/whoami | sed -n '1p;/logged in/p'
echo "(nothing for ${1:-70} s)"
sleep "${1:-70}"
c $B/whoami
