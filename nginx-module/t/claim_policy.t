#!/usr/bin/perl

# auth_jwt_require_claim and auth_jwt_require_header (kjdev's syntax): every
# operator and its negation and aliases, kjdev's equality rules (exact
# numbers, an integer never equal to a real, unescaped strings, ordered
# arrays, unordered objects, different types never equal), the three forms
# of the expected value ($variable holding JSON, json=, a plain string),
# JQ-like paths against literal member names, match (literal patterns,
# JSON-string patterns, a catastrophic pattern refused by a match limit),
# error=403, several directives at one level, limit_except, and the JOSE
# header.
#
# Tokens are signed from exact JSON texts (sign_compact), so that 1 and 1.0,
# escapes and member order are what the test says.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(time);
use AuthJWTTest;

write_jwks('jwks.json', qw(hmac));

start_nginx(<<'EOF');
    map $arg_want $want {
        default  '"alice"';
        empty    '';
        plain    'alice';
        bad      '"alice';
        number   '5';
    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        auth_jwt "test";
        auth_jwt_key_file %%TESTDIR%%/jwks.json;

        # eq / ne on strings (a plain string is a JSON string)
        location /eq-str   { auth_jwt_require_claim sub eq alice; empty_gif; }
        location /ne-str   { auth_jwt_require_claim sub ne alice; empty_gif; }
        location /neg-eq   { auth_jwt_require_claim sub !eq alice; empty_gif; }
        location /eq-plain5 { auth_jwt_require_claim n eq 5; empty_gif; }

        # numbers
        location /eq-int   { auth_jwt_require_claim n eq json=1; empty_gif; }
        location /ne-int   { auth_jwt_require_claim n ne json=1; empty_gif; }
        location /eq-real  { auth_jwt_require_claim n eq json=1.0; empty_gif; }
        location /eq-big   { auth_jwt_require_claim n eq json=9007199254740993; empty_gif; }
        location /gt       { auth_jwt_require_claim n gt json=10; empty_gif; }
        location /not-gt   { auth_jwt_require_claim n !gt json=10; empty_gif; }
        location /ge       { auth_jwt_require_claim n ge json=10; empty_gif; }
        location /lt-var   { set $lim 100; auth_jwt_require_claim n lt $lim; empty_gif; }
        location /le       { auth_jwt_require_claim n le json=-1.5; empty_gif; }
        location /not-lt   { auth_jwt_require_claim n !lt json=0; empty_gif; }
        location /not-ge   { auth_jwt_require_claim n !ge json=10; empty_gif; }
        location /not-le   { auth_jwt_require_claim n !le json=10; empty_gif; }
        location /gt-str   { auth_jwt_require_claim n gt '"a"'; empty_gif; }

        # true, false, null, arrays, objects
        location /eq-true  { auth_jwt_require_claim admin eq json=true; empty_gif; }
        location /eq-null  { auth_jwt_require_claim x eq json=null; empty_gif; }
        location /eq-arr   { auth_jwt_require_claim roles eq 'json=["a","b"]'; empty_gif; }
        location /eq-obj   { auth_jwt_require_claim o eq 'json={"x":1,"y":[true,null]}'; empty_gif; }
        location /ne-obj   { auth_jwt_require_claim o ne 'json={"x":1}'; empty_gif; }

        # in / nin
        location /in-arr   { auth_jwt_require_claim role in 'json=["admin","ops"]'; empty_gif; }
        location /in-obj   { auth_jwt_require_claim role in 'json={"admin":1,"ops":0}'; empty_gif; }
        location /nin      { auth_jwt_require_claim role nin 'json=["banned"]'; empty_gif; }
        location /neg-in   { auth_jwt_require_claim role !in 'json=["banned"]'; empty_gif; }
        location /neg-in-obj { auth_jwt_require_claim role !in 'json={"x":1}'; empty_gif; }
        location /in-plain { auth_jwt_require_claim role in admin; empty_gif; }

        # any / intersect / nintersect / !any
        location /any      { auth_jwt_require_claim roles any 'json=["admin","ops"]'; empty_gif; }
        location /intersect { auth_jwt_require_claim roles intersect 'json=["ops"]'; empty_gif; }
        location /nintersect { auth_jwt_require_claim roles nintersect 'json=["banned"]'; empty_gif; }
        location /neg-any  { auth_jwt_require_claim roles !any 'json=["banned"]'; empty_gif; }
        location /any-str  { auth_jwt_require_claim roles any 'json="admin"'; empty_gif; }
        location /neg-any-str { auth_jwt_require_claim roles !any 'json="admin"'; empty_gif; }

        # $variable: JSON text; empty or invalid fails, negated or not
        location /var-eq   { auth_jwt_require_claim sub eq $want; empty_gif; }
        location /var-ne   { auth_jwt_require_claim sub ne $want; empty_gif; }

        # paths
        location /path-nested  { auth_jwt_require_claim .realm_access.roles any 'json=["admin"]'; empty_gif; }
        location /path-literal { auth_jwt_require_claim realm_access.roles any 'json=["admin"]'; empty_gif; }
        location /path-quoted  { auth_jwt_require_claim ."dotted.key" eq v; empty_gif; }
        location /path-index   { auth_jwt_require_claim .roles[0] eq admin; empty_gif; }
        location /path-matrix  { auth_jwt_require_claim .matrix[0][1] eq json=2; empty_gif; }
        location /path-mixed   { auth_jwt_require_claim .groups[1].name eq eng; empty_gif; }
        location /path-ne      { auth_jwt_require_claim .a.b ne x; empty_gif; }

        # match
        location /match        { auth_jwt_require_claim email match '@example\.com\z'; empty_gif; }
        location /neg-match    { auth_jwt_require_claim email !match '@example\.com\z'; empty_gif; }
        location /match-json   { auth_jwt_require_claim sub match 'json="^ab+c"'; empty_gif; }
        location /match-var    { set $p '"^adm(in)?"'; auth_jwt_require_claim role match $p; empty_gif; }
        location /match-var-esc {
            set $pe '"@example\\\\.com\\\\z"';
            auth_jwt_require_claim email match $pe;
            empty_gif;
        }
        location /match-var-plain  { set $pp 'adm'; auth_jwt_require_claim role match $pp; empty_gif; }
        location /match-var-number { set $pn '5'; auth_jwt_require_claim role match $pn; empty_gif; }
        location /match-unescaped  { auth_jwt_require_claim q match '\Aa"b/c\z'; empty_gif; }
        location /redos     { auth_jwt_require_claim sub match '\A(a+)+\z'; empty_gif; }
        location /redos-var {
            set $rp '"\\\\A(a+)+\\\\z"';
            auth_jwt_require_claim sub match $rp;
            empty_gif;
        }

        # error=, several directives
        location /forbid   { auth_jwt_require_claim role eq admin error=403; empty_gif; }
        location /err401   { auth_jwt_require_claim role eq admin error=401; empty_gif; }
        location /mixed {
            auth_jwt_require_claim sub eq alice;
            auth_jwt_require_claim role eq admin error=403;
            empty_gif;
        }
        location /all {
            auth_jwt_require_claim a eq json=1;
            auth_jwt_require_claim b eq json=2;
            auth_jwt_require_claim c eq json=3;
            empty_gif;
        }

        # the JOSE header
        location /hdr-alg    { auth_jwt_require_header alg eq HS256; empty_gif; }
        location /hdr-alg-in { auth_jwt_require_header alg in 'json=["HS384","HS512"]'; empty_gif; }
        location /hdr-tenant { auth_jwt_require_header tenant eq acme error=403; empty_gif; }
        location /claim-tenant { auth_jwt_require_claim tenant eq acme; empty_gif; }
        location /hdr-path   { auth_jwt_require_header .meta.ver ge json=2; empty_gif; }
        location /hdr-neg    { auth_jwt_require_header typ ne JWE; empty_gif; }

        # limit_except
        location /limit {
            limit_except GET { auth_jwt_require_claim role eq writer; }
            proxy_pass http://127.0.0.1:%%PORT_8081%%/;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8081%%;
        location / { return 200 "upstream $request_method\n"; }
    }
EOF

my $HEADER = '{"alg":"HS256","typ":"JWT"}';

# A token of exactly this payload (and header) text.
sub tok {
    my ($payload, $header, %o) = @_;
    return sign_compact($header // $HEADER, $payload, %o);
}

# check($path, $payload, $want, $name, header => ..., alg => ...): 200, or
# the rejection (401 INVALID_TOKEN with its challenge, 403 FORBIDDEN).
sub check {
    my ($path, $payload, $want, $name, %o) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $header = delete $o{header};
    my $res = http_get_token($path, tok($payload, $header, %o));
    my $label = "$path $payload: $name";
    return is_ok($res, $label) if $want == 200;
    return is_rejected($res, 403, 'FORBIDDEN', $label) if $want == 403;
    is_rejected($res, 401, 'INVALID_TOKEN', $label);
}

sub table {
    my ($path, @cases) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    check($path, @$_) for @cases;
}

# eq / ne / !eq on strings.
table('/eq-str',
    [ '{"sub":"alice"}', 200, 'equal string' ],
    [ '{"sub":"al\u0069ce"}', 200, 'equal after unescaping' ],
    [ '{"sub":"bob"}', 401, 'other string' ],
    [ '{"sub":"Alice"}', 401, 'case differs' ],
    [ '{"sub":"alice "}', 401, 'trailing space' ],
    [ '{"sub":["alice"]}', 401, 'array holding the string' ],
    [ '{"other":"alice"}', 401, 'claim missing' ]);
for my $path ('/ne-str', '/neg-eq') {
    table($path,
        [ '{"sub":"bob"}', 200, 'other string' ],
        [ '{"sub":5}', 200, 'a number is never equal to a string' ],
        [ '{"sub":"alice"}', 401, 'equal string' ],
        [ '{"sub":"\u0061lice"}', 401, 'equal after unescaping' ],
        [ '{"other":"x"}', 401, 'claim missing fails negated too' ]);
}
table('/eq-plain5',
    [ '{"n":"5"}', 200, 'plain 5 is the string "5"' ],
    [ '{"n":5}', 401, 'plain 5 is not the number 5' ]);

# Numbers: exact, an integer never equals a real.
table('/eq-int',
    [ '{"n":1}', 200, 'integer 1' ],
    [ '{"n":1.0}', 401, 'real 1.0 is not integer 1' ],
    [ '{"n":1e0}', 401, 'real 1e0 is not integer 1' ],
    [ '{"n":"1"}', 401, 'string "1"' ],
    [ '{"n":true}', 401, 'true' ],
    [ '{"n":2}', 401, 'integer 2' ]);
table('/ne-int',
    [ '{"n":1.0}', 200, 'real 1.0 differs from integer 1' ],
    [ '{"n":"1"}', 200, 'string "1" differs' ],
    [ '{"n":1}', 401, 'integer 1' ],
    [ '{"m":1}', 401, 'claim missing' ]);
table('/eq-real',
    [ '{"n":1.0}', 200, 'real 1.0' ],
    [ '{"n":1.00}', 200, 'real 1.00, same value' ],
    [ '{"n":1}', 401, 'integer 1 is not real 1.0' ],
    [ '{"n":1.01}', 401, 'real 1.01' ]);
table('/eq-big',
    [ '{"n":9007199254740993}', 200, '2^53+1 equal' ],
    [ '{"n":9007199254740992}', 401, '2^53 differs from 2^53+1 (no doubles)' ]);
table('/gt',
    [ '{"n":11}', 200, '11 > 10' ],
    [ '{"n":10.5}', 200, '10.5 > 10' ],
    [ '{"n":10}', 401, '10 not > 10' ],
    [ '{"n":-11}', 401, '-11' ],
    [ '{"n":"11"}', 401, 'string "11"' ],
    [ '{"x":11}', 401, 'claim missing' ]);
table('/not-gt',
    [ '{"n":10}', 200, '10 !gt 10' ],
    [ '{"n":9.5}', 200, '9.5 !gt 10' ],
    [ '{"n":11}', 401, '11 gt 10' ],
    [ '{"n":"5"}', 401, 'a string fails whatever the negation' ],
    [ '{"n":null}', 401, 'null fails whatever the negation' ],
    [ '{"x":1}', 401, 'claim missing' ]);
table('/ge',
    [ '{"n":10}', 200, '10 >= 10' ],
    [ '{"n":10.0}', 200, '10.0 >= 10' ],
    [ '{"n":9.99}', 401, '9.99' ]);
table('/lt-var',
    [ '{"n":99}', 200, '99 < $lim (100)' ],
    [ '{"n":99.999}', 200, '99.999 < 100' ],
    [ '{"n":-5}', 200, '-5 < 100' ],
    [ '{"n":100}', 401, '100 not < 100' ],
    [ '{"n":1e3}', 401, '1e3 not < 100' ]);
table('/le',
    [ '{"n":-1.5}', 200, '-1.5 <= -1.5' ],
    [ '{"n":-2}', 200, '-2 <= -1.5' ],
    [ '{"n":-1}', 401, '-1' ],
    [ '{"n":"x"}', 401, 'string' ]);
table('/not-lt',
    [ '{"n":0}', 200, '0 !lt 0' ],
    [ '{"n":-1}', 401, '-1 lt 0' ],
    [ '{"n":[1]}', 401, 'an array fails whatever the negation' ]);
table('/not-ge',
    [ '{"n":9}', 200, '9 !ge 10' ],
    [ '{"n":10}', 401, '10 ge 10' ],
    [ '{"n":"9"}', 401, 'a string fails whatever the negation' ]);
table('/not-le',
    [ '{"n":10.5}', 200, '10.5 !le 10' ],
    [ '{"n":10}', 401, '10 le 10' ],
    [ '{"n":true}', 401, 'true fails whatever the negation' ]);
table('/gt-str',
    [ '{"n":"b"}', 401, 'strings are not ordered' ]);

# true, null, arrays (ordered), objects (unordered).
table('/eq-true',
    [ '{"admin":true}', 200, 'true' ],
    [ '{"admin":"true"}', 401, 'string "true"' ],
    [ '{"admin":1}', 401, 'number 1' ],
    [ '{"admin":false}', 401, 'false' ]);
table('/eq-null',
    [ '{"x":null}', 200, 'null is present and equal' ],
    [ '{"x":"null"}', 401, 'string "null"' ],
    [ '{"y":null}', 401, 'claim missing' ]);
table('/eq-arr',
    [ '{"roles":["a","b"]}', 200, 'same array' ],
    [ '{"roles":[ "a" , "\u0062" ]}', 200, 'same array, spaced and escaped' ],
    [ '{"roles":["b","a"]}', 401, 'arrays are ordered' ],
    [ '{"roles":["a","b","c"]}', 401, 'longer array' ],
    [ '{"roles":["a"]}', 401, 'shorter array' ],
    [ '{"roles":"a"}', 401, 'scalar' ]);
table('/eq-obj',
    [ '{"o":{"x":1,"y":[true,null]}}', 200, 'same object' ],
    [ '{"o":{"y":[true,null],"x":1}}', 200, 'objects are unordered' ],
    [ '{"o":{"x":1}}', 401, 'member missing' ],
    [ '{"o":{"x":1,"y":[true,null],"z":0}}', 401, 'extra member' ],
    [ '{"o":{"x":1.0,"y":[true,null]}}', 401, 'member 1.0 is not 1' ],
    [ '{"o":{"x":1,"y":[null,true]}}', 401, 'member array in another order' ]);
table('/ne-obj',
    [ '{"o":{"x":2}}', 200, 'different object' ],
    [ '{"o":"x"}', 200, 'a string is never equal to an object' ],
    [ '{"o":{"x":1}}', 401, 'equal object' ]);

# in / nin / !in.
table('/in-arr',
    [ '{"role":"admin"}', 200, 'element of the array' ],
    [ '{"role":"ops"}', 200, 'other element' ],
    [ '{"role":"user"}', 401, 'not an element' ],
    [ '{"role":["admin"]}', 401, 'an array is not an element' ],
    [ '{"x":"admin"}', 401, 'claim missing' ]);
table('/in-obj',
    [ '{"role":"ops"}', 200, 'a key of the object (its value 0)' ],
    [ '{"role":"user"}', 401, 'not a key' ],
    [ '{"role":1}', 401, 'a number is not a key' ]);
table('/neg-in',
    [ '{"role":"user"}', 200, '!in: not in the array' ],
    [ '{"role":"banned"}', 401, '!in: in the array' ],
    [ '{"x":"user"}', 401, '!in: claim missing' ]);
table('/nin',
    [ '{"role":"user"}', 200, 'not in the array' ],
    [ '{"role":"banned"}', 401, 'in the array' ],
    [ '{"x":"user"}', 401, 'claim missing fails negated too' ]);
table('/neg-in-obj',
    [ '{"role":5}', 401, '!in an object: a number fails whatever the negation' ],
    [ '{"role":"y"}', 200, '!in an object: another key' ]);
table('/in-plain',
    [ '{"role":"admin"}', 401, 'in against a plain string fails' ]);

# any / intersect / nintersect / !any.
table('/any',
    [ '{"roles":["user","ops"]}', 200, 'arrays intersect' ],
    [ '{"roles":"admin"}', 200, 'a scalar in the expected array' ],
    [ '{"roles":["user"]}', 401, 'no intersection' ],
    [ '{"roles":[]}', 401, 'empty array' ],
    [ '{"roles":"user"}', 401, 'scalar not in the array' ],
    [ '{"x":["admin"]}', 401, 'claim missing' ]);
table('/intersect',
    [ '{"roles":["x","ops"]}', 200, 'alias of any' ],
    [ '{"roles":["x"]}', 401, 'alias of any, no intersection' ]);
for my $path ('/nintersect', '/neg-any') {
    table($path,
        [ '{"roles":["user"]}', 200, 'no intersection' ],
        [ '{"roles":["user","banned"]}', 401, 'intersection' ],
        [ '{"x":["user"]}', 401, 'claim missing fails negated too' ]);
}
table('/any-str',
    [ '{"roles":["admin"]}', 401, 'any needs an expected array' ]);
table('/neg-any-str',
    [ '{"roles":["user"]}', 401, '!any with a non-array expected fails too' ]);

# $variable values are JSON text; empty, invalid (or not JSON) fails.
table('/var-eq',
    [ '{"sub":"alice"}', 200, 'variable holding "alice"' ],
    [ '{"sub":"bob"}', 401, 'variable holding "alice", other sub' ]);
table('/var-eq?want=plain',
    [ '{"sub":"alice"}', 401, 'variable holding alice (not JSON) fails' ]);
table('/var-eq?want=empty',
    [ '{"sub":"alice"}', 401, 'empty variable fails' ]);
table('/var-eq?want=bad',
    [ '{"sub":"alice"}', 401, 'invalid JSON in the variable fails' ]);
table('/var-eq?want=number',
    [ '{"sub":5}', 200, 'variable holding 5: the number' ],
    [ '{"sub":"5"}', 401, 'variable holding 5: not the string' ]);
table('/var-ne',
    [ '{"sub":"bob"}', 200, 'ne variable' ],
    [ '{"sub":"alice"}', 401, 'ne variable, equal' ]);
table('/var-ne?want=empty',
    [ '{"sub":"bob"}', 401, 'empty variable fails negated too' ]);
table('/var-ne?want=bad',
    [ '{"sub":"bob"}', 401, 'invalid JSON fails negated too' ]);

# Paths.
table('/path-nested',
    [ '{"realm_access":{"roles":["admin","user"]}}', 200, 'nested member' ],
    [ '{"realm_access":{"roles":["user"]}}', 401, 'nested member, no admin' ],
    [ '{"realm_access.roles":["admin"]}', 401, 'a dotted member is not the path' ],
    [ '{"realm_access":["admin"]}', 401, 'path into an array' ]);
table('/path-literal',
    [ '{"realm_access.roles":["admin"]}', 200, 'name taken literally' ],
    [ '{"realm_access":{"roles":["admin"]}}', 401, 'not a path without a leading dot' ]);
table('/path-quoted',
    [ '{"dotted.key":"v"}', 200, 'quoted key with a dot' ],
    [ '{"dotted":{"key":"v"}}', 401, 'quoted key is not a path' ]);
table('/path-index',
    [ '{"roles":["admin","user"]}', 200, 'first element' ],
    [ '{"roles":["user","admin"]}', 401, 'admin second' ],
    [ '{"roles":[]}', 401, 'empty array' ],
    [ '{"roles":{"0":"admin"}}', 401, 'an index into an object' ]);
table('/path-matrix',
    [ '{"matrix":[[1,2],[3]]}', 200, 'nested index' ],
    [ '{"matrix":[[1,3],[2]]}', 401, 'other value' ],
    [ '{"matrix":[[1]]}', 401, 'index past the end' ],
    [ '{"matrix":[[1,2.0]]}', 401, 'real 2.0 is not 2' ]);
table('/path-mixed',
    [ '{"groups":[{"name":"x"},{"name":"eng"}]}', 200, 'index then member' ],
    [ '{"groups":[{"name":"eng"}]}', 401, 'index past the end' ]);
table('/path-ne',
    [ '{"a":{"b":"y"}}', 200, 'ne on a path' ],
    [ '{"a":{}}', 401, 'missing path fails negated too' ],
    [ '{"a":"b"}', 401, 'path through a string fails negated too' ]);

# match: literal patterns are PCRE, the value must be a string.
table('/match',
    [ '{"email":"alice@example.com"}', 200, 'matches' ],
    [ '{"email":"alice@example.com.evil.org"}', 401, '\z anchors' ],
    [ '{"email":"alice@exampleXcom"}', 401, '\. is a dot' ],
    [ '{"email":["alice@example.com"]}', 401, 'an array does not match' ],
    [ '{"email":5}', 401, 'a number does not match' ],
    [ '{"mail":"alice@example.com"}', 401, 'claim missing' ]);
table('/neg-match',
    [ '{"email":"a@evil.org"}', 200, '!match, no match' ],
    [ '{"email":"a@example.com"}', 401, '!match, match' ],
    [ '{"email":5}', 401, '!match: a number fails whatever the negation' ],
    [ '{"mail":"a@evil.org"}', 401, '!match: claim missing' ]);
table('/match-json',
    [ '{"sub":"abbbc"}', 200, 'json= string pattern' ],
    [ '{"sub":"xabc"}', 401, 'json= string pattern, anchored' ]);
table('/match-var',
    [ '{"role":"admin"}', 200, 'JSON string pattern from a variable' ],
    [ '{"role":"adm"}', 200, 'JSON string pattern, optional group' ],
    [ '{"role":"xadmin"}', 401, 'JSON string pattern, anchored' ]);
table('/match-var-esc',
    [ '{"email":"bob@example.com"}', 200, 'escaped backslashes in a JSON pattern' ],
    [ '{"email":"bob@exampleXcom"}', 401, 'JSON "\\\\." is a literal dot' ]);
table('/match-var-plain',
    [ '{"role":"admin"}', 401, 'a variable pattern that is not JSON fails' ]);
table('/match-var-number',
    [ '{"role":"5"}', 401, 'a variable pattern that is a JSON number fails' ]);
table('/match-unescaped',
    [ '{"q":"a\"b\/c"}', 200, 'the claim is unescaped before matching' ],
    [ '{"q":"a\\\\\"b/c"}', 401, 'an escaped backslash stays one' ]);

# A catastrophic pattern is stopped by a match limit, quickly.
table('/redos', [ '{"sub":"aaab"}', 401, 'harmless subject, no match' ]);
table('/redos', [ '{"sub":"aaaa"}', 200, 'harmless subject, match' ]);
for my $path ('/redos', '/redos-var') {
    my $t0 = time();
    check($path, '{"sub":"' . ('a' x 30) . '!"}', 401,
        'catastrophic backtracking refused');
    my $took = time() - $t0;
    ok($took < slow(1.5), "$path: answered in ${\ sprintf '%.2f', $took}s");
}
like(error_log(), qr/\[error\][^\n]*auth_jwt[^\n]*match limit/i,
    'match limit logged at error level');

# error=403 and several directives.
table('/forbid',
    [ '{"role":"admin"}', 200, 'error=403, met' ],
    [ '{"role":"user"}', 403, 'error=403, not met' ],
    [ '{"x":1}', 403, 'error=403, claim missing' ]);
table('/err401',
    [ '{"role":"user"}', 401, 'error=401, not met' ]);
table('/mixed',
    [ '{"sub":"alice","role":"admin"}', 200, 'both met' ],
    [ '{"sub":"bob","role":"admin"}', 401, 'first (401) fails' ],
    [ '{"sub":"alice","role":"user"}', 403, 'second (403) fails' ]);
table('/all',
    [ '{"a":1,"b":2,"c":3}', 200, 'all three hold' ],
    [ '{"a":1,"b":2}', 401, 'third missing' ],
    [ '{"a":1,"b":3,"c":3}', 401, 'second fails' ],
    [ '{"a":0,"b":2,"c":3}', 401, 'first fails' ]);

# The JOSE header.
table('/hdr-alg',
    [ '{"sub":"a"}', 200, 'alg HS256' ],
    [ '{"sub":"a"}', 401, 'alg HS384', header => '{"alg":"HS384"}',
        alg => 'HS384' ]);
table('/hdr-alg-in',
    [ '{"sub":"a"}', 200, 'alg HS512 in the list', header => '{"alg":"HS512"}',
        alg => 'HS512' ],
    [ '{"sub":"a"}', 401, 'alg HS256 not in the list' ]);
table('/hdr-tenant',
    [ '{"sub":"a"}', 200, 'custom header member',
        header => '{"alg":"HS256","tenant":"acme"}' ],
    [ '{"sub":"a","tenant":"acme"}', 403, 'a claim is not a header member' ],
    [ '{"sub":"a"}', 403, 'other tenant',
        header => '{"alg":"HS256","tenant":"evil"}' ]);
table('/claim-tenant',
    [ '{"sub":"a"}', 401, 'a header member is not a claim',
        header => '{"alg":"HS256","tenant":"acme"}' ]);
table('/hdr-path',
    [ '{"sub":"a"}', 200, 'header path .meta.ver 2',
        header => '{"alg":"HS256","meta":{"ver":2}}' ],
    [ '{"sub":"a"}', 401, 'header path .meta.ver 1',
        header => '{"alg":"HS256","meta":{"ver":1}}' ],
    [ '{"meta":{"ver":3}}', 401, 'header path: the payload is not read' ]);
table('/hdr-neg',
    [ '{"sub":"a"}', 200, 'typ JWT ne JWE' ],
    [ '{"sub":"a"}', 401, 'typ JWE', header => '{"alg":"HS256","typ":"JWE"}' ],
    [ '{"sub":"a"}', 401, 'typ missing fails negated too',
        header => '{"alg":"HS256"}' ]);

# limit_except.
sub method {
    my ($method, $payload) = @_;
    return http_request(method => $method, path => '/limit', body => '',
        headers => [ Authorization => 'Bearer ' . tok($payload) ]);
}
my $res = method('GET', '{"role":"reader"}');
is_ok($res, 'limit_except: GET not subject to the requirement');
is($res->{body}, "upstream GET\n", 'limit_except: GET proxied');
is_rejected(method('POST', '{"role":"reader"}'), 401, 'INVALID_TOKEN',
    'limit_except: POST with a reader');
$res = method('POST', '{"role":"writer"}');
is_ok($res, 'limit_except: POST with a writer');
is($res->{body}, "upstream POST\n", 'limit_except: POST proxied');

# The reason is logged at info, naming the claim, never its value.
table('/forbid', [ '{"role":"zq-private-value"}', 403, 'a distinctive value' ]);
like(error_log(), qr/\[info\][^\n]*auth_jwt[^\n]*\brole\b/,
    'a failed requirement is logged at info, naming the claim');
unlike(error_log(), qr/zq-private-value/, 'the claim\'s value is not logged');

no_log_alerts();

done_testing();
