provider "aws" {
  region = var.region

  # Every resource carries these (cost allocation, ownership); resources add only a Name where useful.
  default_tags {
    tags = merge(var.tags, {
      Project     = var.project
      Environment = var.environment
      ManagedBy   = "terraform"
    })
  }
}
