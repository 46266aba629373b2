#pragma once
// Every profile by username, as the user directory installs it (plugin/user_directory.h) and the
// ACL checks read it (plugin/string_table.h: found by a view of the name).
#include <string>

#include "plugin/string_table.h"

namespace mqchat {

struct UserRecord {
  std::string id;
  std::string password_hash;
};

using UserTable = StringTable<UserRecord>;

}  // namespace mqchat
