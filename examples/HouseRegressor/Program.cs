using Kindling;
using Kindling.Data;
using Kindling.NN;
using Kindling.Optim;

// The source material's house-price regressor, 10 → 128 → 1 with MSELoss, on the embedded diabetes dataset
// (10 features, a real-valued target).
//   dotnet run --project examples/HouseRegressor -c Release [epochs]
int epochs = args.Length > 0 ? int.Parse(args[0]) : 200;
var (rmse, r2) = HouseRegressor.Run(epochs);
Console.WriteLine($"held-out RMSE: {rmse:F2}, R²: {r2:F3}");

public static class HouseRegressor
{
    public static (double Rmse, double R2) Run(int epochs)
    {
        var d = Datasets.Diabetes();
        var split = Dataset.RandomSplit(d.ToDataset(), [0.8, 0.2], new Generator(0));
        var (trX, trY) = DataLoader.Collate(split[0], Enumerable.Range(0, split[0].Count).ToArray());
        var (teX, teY) = DataLoader.Collate(split[1], Enumerable.Range(0, split[1].Count).ToArray());
        // Scale with training statistics only, so nothing about the held-out rows leaks into training.
        var scaler = Standardize.Fit(trX);
        double mean = trY.Mean().ItemDouble(), std = trY.Std().ItemDouble();
        var x = scaler.Transform(trX);
        var y = ((trY - mean) / std).Reshape(-1, 1);   // (N, 1), the model's output shape: no silent (N, N) broadcast
        var init = new Generator(2); // its own generator: the result does not depend on what else drew from Generator.Default
        var model = new Sequential(new Linear(10, 128, generator: init), new ReLU(), new Linear(128, 1, generator: init));
        var loss = new MSELoss();
        var opt = new Adam(model.Parameters(), lr: 1e-3);
        var loader = new DataLoader(new TensorDataset(x, y), 64, shuffle: true, generator: new Generator(1));
        for (int e = 0; e < epochs; e++)
            foreach (var (xb, yb) in loader)
            {
                opt.ZeroGrad();
                var l = loss.Call(model.Call(xb), yb);
                l.Backward();
                opt.Step();
            }
        model.Eval();
        using var _ = Autograd.NoGrad();
        var pred = (model.Call(scaler.Transform(teX)) * std + mean).Reshape(-1).ToArray();
        var truth = teY.ToArray();
        double mse = pred.Zip(truth).Average(p => (double)(p.First - p.Second) * (p.First - p.Second));
        double tm = truth.Average(v => (double)v), tot = truth.Average(v => (v - tm) * (v - tm));
        return (Math.Sqrt(mse), 1 - mse / tot);
    }
}
