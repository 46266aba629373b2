# shellcheck shell=bash
# TLS for the public listeners: a local CA and a server certificate.
# Sourced by ./mqchat (after common.sh); not run on its own.

# ./mqchat up --tls: a local CA and a server certificate for 127.0.0.1/localhost, made once under
# .run/tls; clients trust ca.crt. The marker file keeps TLS on across restarts.
tls_init() {
  local d=$RUN/tls
  mkdir -p "$d"
  if [ ! -s "$d/server.crt" ]; then
    say "making a local CA and a server certificate in $d"
    (
      umask 077
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
        -subj "/CN=mqchat local CA" -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
      openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=localhost" \
        -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
      printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$d/server.ext"
      openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 825 \
        -extfile "$d/server.ext" -out "$d/server.crt" 2>/dev/null
    ) || die "openssl could not make the TLS certificates in $d"
    chmod 644 "$d/ca.crt" "$d/server.crt"
  fi
  touch "$d/enabled"
}

# HAProxy terminates TLS (one policy for every listener): it wants the certificate and key in one file.
tls_pem() {
  local d=$RUN/tls
  [ -s "$d/server.pem" ] && [ "$d/server.pem" -nt "$d/server.crt" ] && return 0
  (umask 077; cat "$d/server.crt" "$d/server.key" >"$d/server.pem")
}
