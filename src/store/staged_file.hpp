// staged_file.hpp: moved to io/staged_file.hpp (below every layer); this name stays for the
// store's sources that include it.
#pragma once

#include "../io/staged_file.hpp"
