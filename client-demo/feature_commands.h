#pragma once
// The subcommands of issue 17: reply, react, search, archive, mute, archived (see commands.h for
// the conventions: text or --json output, the exit status returned, refusals thrown).
#include <string>
#include <vector>

#include "client-demo/commands.h"

namespace mqchat::client {

int reply_command(ChatApi& api, Output o, const std::string& id, const std::string& text, const std::string& with);
int react_command(ChatApi& api, Output o, const std::string& id, const std::string& emoji, bool remove,
                  const std::string& with);
int search_command(ChatApi& api, Output o, const std::string& query, const std::string& with, int limit,
                   const std::string& before);
// archive (or, with undo, unarchive) / mute (unmute) the conversation with `peer`.
int settings_command(ChatApi& api, Output o, const std::string& peer, bool archive, bool undo);
int archived_command(ChatApi& api, Output o);

// group OP ARGS…: create NAME USER…, info ROOM, rename ROOM NAME, add ROOM USER…, remove ROOM USER,
// leave ROOM, transfer ROOM USER, role ROOM USER admin|member, send ROOM TEXT, history ROOM.
int group_command(ChatApi& api, Output o, const std::string& op, const std::vector<std::string>& args);

// A search headline as plain text: <mark>…</mark> becomes [[…]], HTML entities are decoded.
std::string headline_text(const std::string& html);

}  // namespace mqchat::client
