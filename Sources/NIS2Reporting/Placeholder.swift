// reporting
