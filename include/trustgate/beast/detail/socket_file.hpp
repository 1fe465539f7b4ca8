// The file of the server's Unix socket (server_options::local_socket): made room for
// before bind, given mode 0660 after, removed when the server goes away.
#pragma once

#include <string>
#include <utility>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

namespace trustgate::beast::detail {

class socket_file {
public:
    // Nothing may be at `path` but a stale socket, which is removed: one that refuses a
    // connection has no server behind it. A live socket or any other file is an error
    // (another server, or a path typed wrong), never replaced.
    explicit socket_file(std::string path) : path_(std::move(path)) {
        struct stat st{};
        if (::lstat(path_.c_str(), &st) != 0) {
            if (errno == ENOENT) return;
            fail(errno, "cannot inspect it");
        }
        if (!S_ISSOCK(st.st_mode)) fail(EEXIST, "a file that is not a socket is in the way");
        sockaddr_un address{};
        if (path_.size() >= sizeof address.sun_path) fail(ENAMETOOLONG, "the path is too long for a Unix socket");
        address.sun_family = AF_UNIX;
        path_.copy(address.sun_path, path_.size());
        const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (probe < 0) fail(errno, "cannot test it");
        const int connected = ::connect(probe, reinterpret_cast<const sockaddr*>(&address), sizeof address);
        const int error = errno;
        ::close(probe);
        if (connected == 0) fail(EADDRINUSE, "another server is listening on it");
        if (error != ECONNREFUSED) fail(error, "cannot tell whether a server is listening on it");
        if (::unlink(path_.c_str()) != 0 && errno != ENOENT) fail(errno, "cannot remove the stale socket");
    }

    socket_file(const socket_file&) = delete;
    socket_file& operator=(const socket_file&) = delete;

    // Called with the socket before bind: the file is created with this socket's mode
    // (less the umask), so it is never wider than 0660, not even for a moment.
    void prepare(int socket) const {
        if (::fchmod(socket, 0660) != 0) fail(errno, "cannot set the socket's mode");
    }

    // Called after bind: owner and group may connect, nobody else, whatever the umask.
    void bound() {
        if (::chmod(path_.c_str(), 0660) != 0) fail(errno, "cannot set mode 0660");
        struct stat st{};
        if (::lstat(path_.c_str(), &st) != 0) fail(errno, "cannot inspect it");
        device_ = st.st_dev;
        inode_ = st.st_ino;
        owned_ = true;
    }

    // Removes the file only if it is still the one this server created.
    ~socket_file() {
        struct stat st{};
        if (owned_ && ::lstat(path_.c_str(), &st) == 0 && st.st_dev == device_ && st.st_ino == inode_)
            ::unlink(path_.c_str());
    }

    const std::string& path() const noexcept { return path_; }

private:
    [[noreturn]] void fail(int error, const std::string& what) const {
        throw boost::system::system_error(boost::system::error_code(error, boost::system::system_category()),
                                          "Unix socket " + path_ + ": " + what);
    }

    std::string path_;
    dev_t device_{};
    ino_t inode_{};
    bool owned_ = false;
};

}  // namespace trustgate::beast::detail
