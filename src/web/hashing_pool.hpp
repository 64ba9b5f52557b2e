// The process-wide password-hashing workers of the web faces. Argon2id and
// PBKDF2 cost tens of milliseconds each, too long for an event loop; every
// web face of the process (one meter, or every meter of a fleet) hands them
// to these few threads instead of keeping a thread of its own (a fleet of
// 500 meters had 500 hashing threads).
//
// Two kinds of work:
//  * requests (a login, a password change): a bounded queue; submit() says
//    no when it is full, or when its owner has a quarter of it already (one
//    meter's login flood leaves the other meters of a fleet room), and the
//    request is refused with 503 instead of waiting behind thousands of others;
//  * start-up work (a fleet meter's initial admin credentials, one per web
//    face): runs when no request waits, in the order given; hurry() moves
//    an owner's start-up work before the others' (a login waits for it).
// Each job has an owner (its web server); cancel(owner) drops the owner's
// queued jobs and waits for its running one, so that nothing of the owner
// runs after it returns.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace openbcpm::web {

class HashingPool {
  public:
    using Owner = const void*;
    using Job = std::function<void()>;

    HashingPool(size_t threads, size_t max_queued_requests);
    ~HashingPool();
    HashingPool(const HashingPool&) = delete;
    HashingPool& operator=(const HashingPool&) = delete;

    // The pool of the process: one thread on a machine of one or two cores,
    // two beyond; at most kSharedMaxQueued requests waiting.
    static constexpr size_t kSharedMaxQueued = 64;
    static HashingPool& shared();

    // False (and the job dropped) when the queue is full or the owner's share is.
    bool submit(Owner owner, Job job);
    void submit_startup(Owner owner, Job job);
    void hurry(Owner owner);
    void cancel(Owner owner);

    size_t threads() const { return threads_.size(); }
    size_t max_queued_requests() const { return max_queued_; }
    // What one owner may have waiting: a quarter of the queue, at least one.
    size_t max_queued_per_owner() const { return max_queued_ / 4 > 0 ? max_queued_ / 4 : 1; }
    // Jobs waiting (not running): requests, start-up work.
    size_t queued_requests() const;
    size_t queued_startup() const;

  private:
    struct Entry {
        Owner owner;
        Job job;
    };
    void work(size_t slot);

    const size_t max_queued_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;  // a job or the end
    std::condition_variable idle_;  // a job ended (cancel waits on it)
    std::deque<Entry> requests_;
    std::deque<Entry> startup_;
    std::vector<Owner> running_;  // one slot per thread, nullptr when idle
    bool ending_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace openbcpm::web
