// Starting and stopping the real openbcpm binary from a test.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../temp_dir.hpp"

extern char** environ;

namespace openbcpm::test {

inline std::string binary() {
    const char* b = std::getenv("OPENBCPM_BINARY");
    return b ? b : "./openbcpm";
}

// A child process; killed (SIGKILL) on destruction if still running.
class Process {
  public:
    Process(const std::vector<std::string>& args, const std::string& output_file) {
        std::vector<char*> argv;
        for (const auto& a : args)
            argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, output_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                         0644);
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
        if (posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
        posix_spawn_file_actions_destroy(&fa);
    }
    ~Process() {
        if (pid_ > 0 && !exited_) {
            kill(pid_, SIGKILL);
            wait();
        }
    }
    bool started() const { return pid_ > 0; }
    pid_t pid() const { return pid_; }
    void signal(int sig) { kill(pid_, sig); }
    // Waits for exit; returns the exit status (or 128 + signal).
    int wait() {
        if (exited_) return status_;
        int st = 0;
        waitpid(pid_, &st, 0);
        exited_ = true;
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return status_;
    }

  private:
    pid_t pid_ = -1;
    bool exited_ = false;
    int status_ = 0;
};

// A TCP port free on 127.0.0.1 right now (the kernel picks it).
inline int free_tcp_port() {
    const int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    close(s);
    return ntohs(a.sin_port);
}

inline std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::ostringstream os;
    os << in.rdbuf();
    return os.str();
}

// Runs a command to completion; returns its exit status and fills its output.
inline int run(const std::vector<std::string>& args, std::string* output,
               const std::filesystem::path& scratch) {
    const auto out = scratch / "run-output.txt";
    Process p(args, out.string());
    const int status = p.wait();
    if (output) *output = read_file(out);
    return status;
}

}  // namespace openbcpm::test
