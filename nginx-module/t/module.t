#!/usr/bin/perl

# The shared object itself: self-contained (the Swift runtime linked in
# statically), exporting only what nginx looks up, and accepted by the
# packaged nginx's load_module.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use AuthJWTTest;

require_module();
my $so = module_path();

my $ldd = qx{ldd $so 2>&1};
is($?, 0, 'ldd reads the module');
unlike($ldd, qr/libswift|libFoundation|libdispatch|libBlocksRuntime/,
    'no Swift runtime library is loaded at run time');
unlike($ldd, qr/not found/, 'every needed library is present');

my @exports = sort map { (split ' ')[2] } grep { /\s[A-Za-z]\s/ }
    split /\n/, qx{nm -D --defined-only $so};
is_deeply(\@exports,
    [qw(ngx_http_auth_jwt_module ngx_module_names ngx_module_order ngx_modules)],
    'exports only the symbols nginx looks up');

write_jwks('jwks.json', 'hmac');
my ($rc, $out) = nginx_t(<<'EOF');
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location / {
            auth_jwt "test";
            auth_jwt_key_file %%TESTDIR%%/jwks.json;
            empty_gif;
        }
    }
EOF
is($rc, 0, 'the packaged nginx loads the module and accepts a configuration')
    or diag($out);
unlike($out, qr/not binary compatible/, 'binary signature matches nginx');

done_testing();
