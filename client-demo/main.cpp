// mqchat-client: chat from the command line over MQTT (see docs/CLIENTS.md).
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>
#include <unistd.h>

#include "client-demo/chat_session.h"
#include "client-demo/commands.h"
#include "client-demo/feature_commands.h"

using namespace mqchat::client;

namespace {
std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

std::string read_password_from_terminal() {
  if (!isatty(STDIN_FILENO)) return "";
  const char* pw = getpass("password: ");  // no echo
  return pw ? pw : "";
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mqchat-client — persistent one-to-one chat over MQTT"};
  app.require_subcommand(1);
  ServerOptions server;
  server.host = env_or("MQCHAT_HOST", "127.0.0.1");
  server.port = std::atoi(env_or("MQCHAT_MQTT_PORT", "1883").c_str());
  server.user = env_or("MQCHAT_USER", "");
  bool json = false;
  app.add_option("--host", server.host, "broker host")->capture_default_str();
  app.add_option("--port", server.port, "broker MQTT port")->capture_default_str();
  app.add_option("--user,-u", server.user, "your username (or MQCHAT_USER)");
  app.add_option("--password,-p", server.password, "your password (or MQCHAT_PASSWORD; asked when omitted)");
  app.add_flag("--json", json, "machine-readable output, one JSON document per line");

  std::string peer, text, type = "text", metadata, before, id, with, client_id;
  int limit = 50;
  auto* send = app.add_subcommand("send", "send USER TEXT");
  send->add_option("user", peer, "recipient")->required();
  send->add_option("text", text, "message text")->required();
  send->add_option("--type", type, "text | image | file")->check(CLI::IsMember({"text", "image", "file"}));
  send->add_option("--metadata", metadata, "a JSON object, e.g. '{\"url\":\"a.png\"}'");
  auto* conversations = app.add_subcommand("conversations", "your conversations with unread counts");
  auto* history = app.add_subcommand("history", "history USER [--limit N] [--before ID]");
  history->add_option("user", peer)->required();
  history->add_option("--limit", limit, "1..200")->capture_default_str();
  history->add_option("--before", before, "page: messages older than this id");
  auto* read = app.add_subcommand("read", "read USER: mark everything USER sent you as read");
  read->add_option("user", peer)->required();
  auto* edit = app.add_subcommand("edit", "edit ID TEXT: change one of your messages");
  edit->add_option("id", id)->required();
  edit->add_option("text", text)->required();
  edit->add_option("--with", with, "the other participant (found from the id when omitted)");
  auto* remove = app.add_subcommand("delete", "delete ID: delete one of your messages");
  remove->add_option("id", id)->required();
  remove->add_option("--with", with, "the other participant (found from the id when omitted)");
  std::string emoji, query;
  bool undo = false, remove_reaction = false;
  auto* reply = app.add_subcommand("reply", "reply ID TEXT: answer a message (quoted for everyone)");
  reply->add_option("id", id)->required();
  reply->add_option("text", text)->required();
  reply->add_option("--with", with, "the other participant (found from the id when omitted)");
  auto* react = app.add_subcommand("react", "react ID EMOJI [--remove]: add or take away a reaction");
  react->add_option("id", id)->required();
  react->add_option("emoji", emoji)->required();
  react->add_flag("--remove", remove_reaction, "take the reaction away");
  react->add_option("--with", with, "the other participant (found from the id when omitted)");
  auto* search = app.add_subcommand("search", "search QUERY [--with USER] [--limit N] [--before ID]");
  search->add_option("query", query, "words; \"a phrase\", -word to exclude, or")->required();
  search->add_option("--with", with, "only the conversation with this user");
  int search_limit = 20;
  search->add_option("--limit", search_limit, "1..50")->capture_default_str();
  search->add_option("--before", before, "next page: the id the previous page ended with");
  auto* archive = app.add_subcommand("archive", "archive USER [--undo]: out of your list until news arrive");
  archive->add_option("user", peer)->required();
  archive->add_flag("--undo", undo, "unarchive");
  auto* mute = app.add_subcommand("mute", "mute USER [--undo]: no notifications; stays archived");
  mute->add_option("user", peer)->required();
  mute->add_flag("--undo", undo, "unmute");
  auto* archived = app.add_subcommand("archived", "your archived conversations");
  std::string group_op;
  std::vector<std::string> group_args;
  auto* group = app.add_subcommand(
      "group", "group OP …: create NAME USER…, info|leave ROOM, rename ROOM NAME, add ROOM USER…, "
               "remove|transfer ROOM USER, role ROOM USER admin|member, send ROOM TEXT, history ROOM");
  group->add_option("op", group_op, "what to do")->required();
  group->add_option("args", group_args, "its arguments");
  auto* chat = app.add_subcommand("chat", "chat USER: interactive conversation");
  chat->add_option("user", peer)->required();
  chat->add_option("--client-id", client_id, "MQTT client id of the persistent session (default <you>-chat-<user>)");

  CLI11_PARSE(app, argc, argv);

  if (server.user.empty()) {
    std::cerr << "mqchat-client: --user (or MQCHAT_USER) is required\n";
    return 2;
  }
  if (server.password.empty()) server.password = env_or("MQCHAT_PASSWORD", "");
  if (server.password.empty()) server.password = read_password_from_terminal();

  try {
    SessionOptions session;
    if (chat->parsed()) {
      // A persistent session: whatever arrives while this terminal is closed waits in the broker.
      session.client_id = client_id.empty() ? server.user + "-chat-" + peer : client_id;
      session.persistent = true;
      session.auto_reconnect = true;
    }
    Connection conn(server, session);
    conn.connect();
    if (chat->parsed()) return ChatSession(conn, peer, std::cout, json).run(std::cin);
    ChatApi api(conn);
    Output out{std::cout, json};
    if (send->parsed()) return send_command(api, out, peer, text, type, metadata);
    if (conversations->parsed()) return conversations_command(api, out);
    if (history->parsed()) return history_command(api, out, server.user, peer, limit, before);
    if (read->parsed()) return read_command(api, out, peer);
    if (edit->parsed()) return edit_command(api, out, id, text, with);
    if (remove->parsed()) return delete_command(api, out, id, with);
    if (reply->parsed()) return reply_command(api, out, id, text, with);
    if (react->parsed()) return react_command(api, out, id, emoji, remove_reaction, with);
    if (search->parsed()) return search_command(api, out, query, with, search_limit, before);
    if (archive->parsed()) return settings_command(api, out, peer, true, undo);
    if (mute->parsed()) return settings_command(api, out, peer, false, undo);
    if (archived->parsed()) return archived_command(api, out);
    if (group->parsed()) return group_command(api, out, group_op, group_args);
  } catch (const ConnectError& e) {
    std::cerr << "mqchat-client: " << e.what() << "\n";
    return 3;
  } catch (const RequestError& e) {
    if (json) std::cout << nlohmann::json{{"error", e.code()}, {"reason", e.what()}}.dump() << "\n";
    std::cerr << "mqchat-client: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "mqchat-client: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
