#pragma once
// Keeps a user's summary from costing Postgres more the more conversations the user has (issue 14:
// CPU per message within 1.2× from 1 to 1,000 conversations per user). A summary reads O(1) rows per
// conversation, so recomputing one for a user with 1,000 conversations takes tens of ms; at one
// recomputation per coalescing window (150 ms) while messages keep arriving, that user's summary
// alone would take a third of a core. After a summary that took `cost`, the user's next one waits at
// least kSpacing × cost (Coalescer::hold): its recomputations then take at most 1 / (kSpacing + 1)
// of the time, and a summary that took under window / kSpacing (every ordinary one) is not held at
// all, and none is held longer than kMaxWait.
#include <chrono>

namespace mqchat::bridge::summary_pacer {

using Clock = std::chrono::steady_clock;
constexpr int kSpacing = 39;  // ≤ 2.5 % of the time on one user's recomputations
constexpr std::chrono::seconds kMaxWait{5};  // however slow Postgres was, fresh within 5 s

// How long the next summary of a user whose last one took `cost` waits; zero when the coalescing
// `window` already spaces them enough.
Clock::duration wait_after(Clock::duration cost, std::chrono::milliseconds window);

}  // namespace mqchat::bridge::summary_pacer
