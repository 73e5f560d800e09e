"""What the complaints say: statistics, surge alerts and business quality credit."""
