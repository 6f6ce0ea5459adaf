#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace kasten::api {

// True for "localhost", IPv4 127.0.0.0/8 and IPv6 ::1 (also written [::1]).
bool is_loopback_host(std::string_view host);

// Without API keys the server may only listen on loopback: kPermissionDenied (with a message telling how to fix it)
// for any other host. Every host is allowed when authentication is on.
Status check_listen_address(std::string_view host, bool auth_enabled);

// "http://127.0.0.1:8420", "http://[::1]:8420".
std::string listen_url(std::string_view host, int port);

}  // namespace kasten::api
