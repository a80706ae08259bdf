/* `lodge user ...`: the API's users and roles (controller/lodge-access.h). */
#pragma once

int lodge_user_cmd (int argc, char **argv);
