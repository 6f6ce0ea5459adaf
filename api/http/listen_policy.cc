#include "api/http/listen_policy.h"

#include <arpa/inet.h>

#include <cstring>

namespace kasten::api {

bool is_loopback_host(std::string_view host) {
    if (host == "localhost") return true;
    std::string h(host);
    if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    in_addr v4{};
    if (inet_pton(AF_INET, h.c_str(), &v4) == 1) {
        return (ntohl(v4.s_addr) >> 24) == 127;
    }
    in6_addr v6{};
    if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
        static const in6_addr kLoopback = IN6ADDR_LOOPBACK_INIT;
        return std::memcmp(&v6, &kLoopback, sizeof v6) == 0;
    }
    return false;
}

Status check_listen_address(std::string_view host, bool auth_enabled) {
    if (auth_enabled || is_loopback_host(host)) return Status::ok();
    return Status::permission_denied("refusing to listen on '" + std::string(host) +
                                     "' without API keys: configure api_keys (--api-keys or the config file) or "
                                     "listen on a loopback address such as 127.0.0.1");
}

std::string listen_url(std::string_view host, int port) {
    std::string h(host);
    if (h.find(':') != std::string::npos && h.front() != '[') h = "[" + h + "]";
    return "http://" + h + ":" + std::to_string(port);
}

}  // namespace kasten::api
