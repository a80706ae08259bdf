/* `lodge template ...` */
#pragma once

int lodge_template_cmd (int argc, char **argv);
