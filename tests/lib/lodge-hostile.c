#include "lodge-hostile.h"

char *
lodge_hostile_billion_laughs (void)
{
  GString *xml = g_string_new ("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n"
                               "<!ENTITY lol \"lol\">\n");
  for (int i = 1; i <= 9; i++)
    {
      g_string_append_printf (xml, "<!ENTITY lol%d \"", i);
      for (int j = 0; j < 10; j++)
        {
          if (i == 1)
            g_string_append (xml, "&lol;");
          else
            g_string_append_printf (xml, "&lol%d;", i - 1);
        }
      g_string_append (xml, "\">\n");
    }
  g_string_append (xml, "]>\n<environment><name>&lol9;</name></environment>\n");
  return g_string_free (xml, FALSE);
}

char *
lodge_hostile_deep_nesting (guint depth)
{
  GString *xml = g_string_new ("<environment>");
  for (guint i = 0; i < depth; i++)
    g_string_append (xml, "<a>");
  for (guint i = 0; i < depth; i++)
    g_string_append (xml, "</a>");
  g_string_append (xml, "</environment>");
  return g_string_free (xml, FALSE);
}
