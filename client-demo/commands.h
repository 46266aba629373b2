#pragma once
// The one-shot subcommands of mqchat-client. Each prints its result (text, or JSON with --json)
// and returns the process exit status; a refusal throws RequestError (main prints it).
#include <iosfwd>
#include <string>

#include "client-demo/chat_api.h"

namespace mqchat::client {

struct Output {
  std::ostream& out;
  bool json = false;
};

int send_command(ChatApi& api, Output o, const std::string& peer, const std::string& text, const std::string& type,
                 const std::string& metadata_json);
int conversations_command(ChatApi& api, Output o);
int history_command(ChatApi& api, Output o, const std::string& me, const std::string& peer, int limit,
                    const std::string& before);
int read_command(ChatApi& api, Output o, const std::string& peer);
// `with` names the other participant; when empty the room is found from the id.
int edit_command(ChatApi& api, Output o, const std::string& id, const std::string& text, const std::string& with);
int delete_command(ChatApi& api, Output o, const std::string& id, const std::string& with);

}  // namespace mqchat::client
