using System.Globalization;

namespace Kindling.Data;

/// <summary>The spreadsheet conventions a number cell used, as flags (for the explanation line).</summary>
[Flags]
public enum SpreadsheetFormat
{
    None = 0,
    /// <summary>Digit groups: "1,234" (or "1.234,5" / "1 234" with a decimal comma).</summary>
    Thousands = 1,
    /// <summary>A decimal comma: "3,14" in a file separated by ';' (or tabs).</summary>
    DecimalComma = 2,
    /// <summary>A percent sign: "45%" is 0.45, as a spreadsheet stores it.</summary>
    Percent = 4,
    /// <summary>A currency sign ($, €, £, ¥) before or after the number; "($15.00)" is −15 (accounting negative).</summary>
    Currency = 8,
}

/// <summary>
/// Reads the numbers a spreadsheet shows — "1,234", "3,14" (with ';' as the separator), "45%", "$15.00", "(1,200)" —
/// as the number the user means. A plain number (invariant culture) is always tried first; these rules only see cells
/// that are not plain numbers. A comma is a decimal comma when the file is separated by ';' or when it is not followed
/// by exactly three digits (so "1,5" is 1.5 in a tab-separated file); otherwise it separates thousands.
/// </summary>
public static class SpreadsheetNumber
{
    private static readonly char[] CurrencySigns = ['$', '€', '£', '¥'];

    /// <summary>Parses <paramref name="cell"/> (already trimmed) in a file whose field separator is <paramref name="separator"/>.</summary>
    public static bool TryParse(ReadOnlySpan<char> cell, char separator, out double value, out SpreadsheetFormat format)
    {
        value = 0;
        format = SpreadsheetFormat.None;
        var s = cell.Trim();
        if (s.Length == 0 || s.Length > 64) return false;
        bool negative = false;
        if (s.Length > 2 && s[0] == '(' && s[^1] == ')') { negative = true; s = s[1..^1].Trim(); }
        if (s.Length > 0 && s[0] is '-' or '+' or '−') { negative ^= s[0] != '+'; s = s[1..].Trim(); }
        if (s.Length > 0 && CurrencySigns.Contains(s[0])) { format |= SpreadsheetFormat.Currency; s = s[1..].Trim(); }
        if (s.Length > 0 && CurrencySigns.Contains(s[^1])) { format |= SpreadsheetFormat.Currency; s = s[..^1].Trim(); }
        if (s.Length > 0 && s[^1] == '%') { format |= SpreadsheetFormat.Percent; s = s[..^1].Trim(); }
        if (s.Length > 0 && s[0] is '-' or '−' && !negative) { negative = true; s = s[1..].Trim(); }
        if (s.Length == 0 || !char.IsAsciiDigit(s[0]) && s[0] != '.' && s[0] != ',') return false;
        if (!Core(s, separator, out value, ref format)) return false;
        if ((format & SpreadsheetFormat.Percent) != 0) value /= 100;
        if (negative) value = -value;
        return format != SpreadsheetFormat.None;
    }

    private static bool Core(ReadOnlySpan<char> s, char separator, out double value, ref SpreadsheetFormat format)
    {
        value = 0;
        foreach (var ch in s) if (!(char.IsAsciiDigit(ch) || ch is ',' or '.' or ' ' or '\u00A0' or '\u202F' or '\'')) return false;
        int commas = s.Count(','), dots = s.Count('.');
        bool spaces = s.ContainsAny(" \u00A0\u202F'");
        string digits;
        if (spaces)
        {
            // "1 234 567,5" (French, Swiss "1'234.5"): group separators; the remaining mark is the decimal point.
            if (commas > 0 && dots > 0 || commas > 1 || dots > 1) return false;
            var stripped = s.ToString().Replace(" ", "").Replace("\u00A0", "").Replace("\u202F", "").Replace("'", "");
            if (!Grouped(s.ToString(), c => c is ' ' or '\u00A0' or '\u202F' or '\'')) return false;
            format |= SpreadsheetFormat.Thousands | (commas == 1 ? SpreadsheetFormat.DecimalComma : 0);
            digits = stripped.Replace(',', '.');
        }
        else if (commas > 0 && dots > 0)
        {
            // Both marks: the last one is the decimal point ("1,234.5" or "1.234,5").
            bool commaDecimal = s.LastIndexOf(',') > s.LastIndexOf('.');
            char group = commaDecimal ? '.' : ',';
            char point = commaDecimal ? ',' : '.';
            if (s.Count(point) != 1) return false;
            var intPart = s[..s.LastIndexOf(point)].ToString();
            if (!Grouped(intPart, c => c == group)) return false;
            format |= SpreadsheetFormat.Thousands | (commaDecimal ? SpreadsheetFormat.DecimalComma : 0);
            digits = intPart.Replace(group.ToString(), "") + "." + s[(s.LastIndexOf(point) + 1)..].ToString();
        }
        else if (commas > 0)
        {
            bool groups = Grouped(s.ToString(), c => c == ',');
            if (commas == 1 && (separator == ';' || !groups))
            {
                format |= SpreadsheetFormat.DecimalComma;
                digits = s.ToString().Replace(',', '.');
            }
            else if (groups && separator != ';') { format |= SpreadsheetFormat.Thousands; digits = s.ToString().Replace(",", ""); }
            else return false;
        }
        else if (dots > 1)
        {
            // "1.234.567": dots as groups (a plain number has at most one).
            if (!Grouped(s.ToString(), c => c == '.')) return false;
            format |= SpreadsheetFormat.Thousands;
            digits = s.ToString().Replace(".", "");
        }
        else digits = s.ToString();
        return double.TryParse(digits, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>True when the separators <paramref name="isGroup"/> split <paramref name="s"/>'s integer part into 1–3 digits then groups of 3.</summary>
    private static bool Grouped(string s, Func<char, bool> isGroup)
    {
        int point = s.IndexOfAny(['.', ',']);
        // The decimal mark, when it is not a group separator, ends the integer part.
        string intPart = s;
        for (int i = 0; i < s.Length; i++)
            if (!char.IsAsciiDigit(s[i]) && !isGroup(s[i])) { intPart = s[..i]; break; }
        _ = point;
        var parts = new List<string>();
        var cur = new System.Text.StringBuilder();
        foreach (var ch in intPart)
        {
            if (isGroup(ch)) { parts.Add(cur.ToString()); cur.Clear(); }
            else cur.Append(ch);
        }
        parts.Add(cur.ToString());
        if (parts.Count < 2) return false;
        if (parts[0].Length is < 1 or > 3) return false;
        for (int i = 1; i < parts.Count; i++) if (parts[i].Length != 3) return false;
        return true;
    }

    /// <summary>"thousands separators, a currency sign" for the explanation line.</summary>
    public static string Describe(SpreadsheetFormat f)
    {
        var parts = new List<string>();
        if ((f & SpreadsheetFormat.Thousands) != 0) parts.Add("thousands separators");
        if ((f & SpreadsheetFormat.DecimalComma) != 0) parts.Add("a decimal comma");
        if ((f & SpreadsheetFormat.Percent) != 0) parts.Add("percentages (45% = 0.45)");
        if ((f & SpreadsheetFormat.Currency) != 0) parts.Add("currency signs");
        return string.Join(", ", parts);
    }
}
