using Kindling.Data;

namespace Kindling.Cli;

/// <summary>
/// Class labels that differ only by case or surrounding spaces (TRUE / True / true, " cat" / "cat") are almost always one
/// class spelled several ways; as separate classes they split the data and the metrics. Without --normalize-labels
/// they are kept apart with a warning naming them; with it they are merged into the most frequent spelling.
/// </summary>
public static class LabelSpelling
{
    /// <summary>A label's spelling-insensitive form: case folded, spaces trimmed and collapsed.</summary>
    public static string Key(string label) => string.Join(' ', label.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).ToLowerInvariant();

    public static LabeledData Check(LabeledData d, string what, bool normalize, List<string> warnings)
    {
        var names = d.ClassNames!;
        var groups = Enumerable.Range(0, names.Count).GroupBy(i => Key(names[i])).Where(g => g.Count() > 1).ToList();
        if (groups.Count == 0) return d;
        string Show(IEnumerable<int> g) => string.Join("/", g.Select(i => $"'{names[i]}'"));
        if (!normalize)
        {
            warnings.Add($"{what}: the labels {string.Join(", ", groups.Select(Show))} differ only by case or surrounding spaces and are {(groups.Count == 1 ? "separate classes" : "kept as separate classes")}; --normalize-labels makes each group one class.");
            return d;
        }
        var labels = d.Targets.ToInt64Array();
        var counts = new int[names.Count];
        foreach (var l in labels) counts[l]++;
        // Each spelling group becomes the class of its most frequent spelling; classes keep their sorted order.
        var canonical = Enumerable.Range(0, names.Count).Select(i => Enumerable.Range(0, names.Count).Where(j => Key(names[j]) == Key(names[i])).MaxBy(j => (counts[j], -j))).ToArray();
        var kept = canonical.Distinct().OrderBy(i => i).ToList();
        var map = canonical.Select(c => (long)kept.IndexOf(c)).ToArray();
        warnings.Add($"{what}: --normalize-labels merged {string.Join(", ", groups.Select(g => $"{Show(g)} into '{names[canonical[g.First()]]}'"))}.");
        return new LabeledData(d.Features, Tensor.FromArray(labels.Select(l => map[l]).ToArray()), d.FeatureNames, d.TargetNames, kept.Select(i => names[i]).ToArray())
        { FeatureDivisor = d.FeatureDivisor };
    }
}
