#include "lodge-enum.h"

const char *
lodge_enum_to_string (const char *const *table, int n, int value)
{
  if (value < 0 || value >= n)
    return NULL;
  return table[value];
}

int
lodge_enum_from_string (const char *const *table, int n, const char *str)
{
  if (str == NULL)
    return -1;
  for (int i = 0; i < n; i++)
    if (g_strcmp0 (table[i], str) == 0)
      return i;
  return -1;
}
