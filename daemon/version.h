#ifndef EVD_VERSION_H
#define EVD_VERSION_H
#ifndef EVD_VERSION
#define EVD_VERSION "0.1.0"
#endif
#endif
