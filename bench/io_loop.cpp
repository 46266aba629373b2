#include "bench/io_loop.h"

#include <cerrno>

namespace bench {

namespace {
std::string failed(const char* what, int rc) { return std::string(what) + ": " + mosquitto_strerror(rc); }
}  // namespace

std::string IoLoop::run_once(int64_t timeout_us) {
  fds_.resize(clients_.size());
  for (size_t i = 0; i < clients_.size(); ++i)
    fds_[i] = {mosquitto_socket(clients_[i]), short(POLLIN | (mosquitto_want_write(clients_[i]) ? POLLOUT : 0)), 0};
  const timespec timeout{time_t(timeout_us / 1000000), long(timeout_us % 1000000) * 1000};
  if (ppoll(fds_.data(), fds_.size(), &timeout, nullptr) < 0 && errno != EINTR) return "poll failed";
  for (size_t i = 0; i < clients_.size(); ++i) {
    mosquitto* const m = clients_[i];
    if (fds_[i].revents & (POLLIN | POLLERR | POLLHUP)) {
      // mosquitto_loop_read reads as many packets as it has QoS messages in flight, at least one:
      // a receiver's next packet waits for another call. Read until the socket is empty.
      for (int k = 0; k < 256; ++k) {
        errno = 0;
        const int rc = mosquitto_loop_read(m, 1);
        if (rc != MOSQ_ERR_SUCCESS) return failed("connection lost", rc);
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      }
    }
    if (mosquitto_want_write(m)) {  // writable, or packets queued by a callback just now
      const int rc = mosquitto_loop_write(m, 1);
      if (rc != MOSQ_ERR_SUCCESS) return failed("write failed", rc);
    }
  }
  const auto now = std::chrono::steady_clock::now();
  if (now >= next_misc_) {
    next_misc_ = now + std::chrono::seconds(1);
    for (mosquitto* m : clients_) mosquitto_loop_misc(m);
  }
  return "";
}

}  // namespace bench
